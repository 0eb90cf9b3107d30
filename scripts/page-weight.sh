#!/usr/bin/env bash
# Page weight: what a browser transfers on a first visit (empty cache) to each main page — the HTML
# document and every script, WebAssembly module and style sheet it references — from the release
# build of the front end (cargo profile `wasm-release`, then wasm-opt, precompressed with brotli and
# gzip), served by the server as a browser asks for it (Accept-Encoding: gzip, deflate, br): the
# bundle precompressed, the HTML compressed on the fly. Pages are fetched
# signed in as the demo admin (so none redirects to /signin); a redirect would be followed and
# every hop counted. Bytes are response bodies as transferred (HTTP headers not counted), in bytes
# (1 KB = 1,000 bytes).
#
#   scripts/page-weight.sh            # tables of assets and of pages
#   scripts/page-weight.sh --budget   # the same, and fail if /annotate's first load exceeds the budget
#
# PAGE_WEIGHT_BUDGET overrides the budget (bytes; default 722,000: 722 KB, the size of the bundle
# when the budget was set).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"

BUDGET_PAGE=/annotate
BUDGET_BYTES="${PAGE_WEIGHT_BUDGET:-722000}"
budget=false
for arg in "$@"; do
  case "$arg" in
    --budget) budget=true ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

ensure_rust
ensure_cargo_tools
ensure_apt curl

# The wasm-opt that cargo-leptos runs on a release build: binaryen 132, as scripts/run.sh uses
# (Debian's binaryen 108 is older than current rustc output), installed privately so it neither
# needs nor clashes with a system-wide binaryen.
BINARYEN_VERSION=132.0.0
BINARYEN_DIR="$HOME/.cache/tutti/tools/binaryen-$BINARYEN_VERSION"
if [ "$("$BINARYEN_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null)" != "wasm-opt version ${BINARYEN_VERSION%%.*} (version_${BINARYEN_VERSION%%.*})" ]; then
  command -v npm >/dev/null || ensure_apt nodejs npm
  step "installing wasm-opt (npm binaryen@$BINARYEN_VERSION, into $BINARYEN_DIR)"
  npm install --prefix "$BINARYEN_DIR" "binaryen@$BINARYEN_VERSION" --no-audit --no-fund
fi
export PATH="$BINARYEN_DIR/node_modules/.bin:$PATH"

SITE="$(mktemp -d /tmp/tutti-weight-site.XXXXXX)"
DATA="$(mktemp -d /tmp/tutti-weight-data.XXXXXX)"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$SITE" "$DATA"
}
trap cleanup EXIT

started=$SECONDS
step "release build of the front end (profile wasm-release, wasm-opt)"
LEPTOS_SITE_ROOT="$SITE" cargo leptos build --release --precompress --frontend-only
# The server that serves it: the debug build (the test command has built it already).
LEPTOS_SITE_ROOT="$CARGO_TARGET_DIR/site" cargo leptos build --server-only
built=$SECONDS

step "serving it"
PORT=$((20000 + RANDOM % 20000))
BASE="http://127.0.0.1:$PORT"
TUTTI_BIND="127.0.0.1:$PORT" TUTTI_PUBLIC_URL="$BASE" TUTTI_DEMO=true \
  DATABASE_URL="sqlite://$DATA/t.db?mode=rwc" TUTTI_STORAGE="$DATA/objects" \
  LEPTOS_SITE_ROOT="$SITE" TUTTI_LOG=warn "$CARGO_TARGET_DIR/debug/server" &
PID=$!
for _ in $(seq 150); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "$BASE/healthz" >/dev/null || { echo "the server did not start" >&2; exit 1; }

# Signed in as the demo admin, with one composition to open.
JAR="$DATA/cookies"
curl -sf -o /dev/null -c "$JAR" -b "$JAR" --data 'role=admin' "$BASE/auth/demo"
COMPOSITION=$(curl -sf -c "$JAR" -b "$JAR" -H 'content-type: application/json' \
  --data '{"title":"Page weight"}' "$BASE/api/v1/compositions" | sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p')
[ -n "$COMPOSITION" ] || { echo "could not create a composition" >&2; exit 1; }

ACCEPT='accept-encoding: gzip, deflate, br'
# transferred URL: body bytes as sent (compressed as negotiated), not decoded.
transferred() {
  local code size
  read -r code size < <(curl -s -o /dev/null -b "$JAR" -H "$ACCEPT" -w '%{http_code} %{size_download}\n' "$BASE$1")
  [ "$code" = 200 ] || { echo "$1 answered $code" >&2; return 1; }
  echo "$size"
}
encoding() {
  curl -s -o /dev/null -D - -b "$JAR" -H "$ACCEPT" "$BASE$1" | tr -d '\r' |
    awk -F': ' 'tolower($1)=="content-encoding"{print $2}'
}

# Each asset is fetched once and its size reused for every page that references it: on-the-fly
# brotli output varies by a few hundred bytes from one request to the next (how the file's chunks
# happen to be read and flushed), and one figure per asset keeps the pages comparable.
declare -A SIZE=()
asset_size() { [ -n "${SIZE[$1]:-}" ] || SIZE[$1]=$(transferred "$1"); }

step "assets"
printf '\n| file | bytes on disk | bytes transferred | encoding |\n|---|--:|--:|---|\n'
for f in /pkg/tutti.wasm /pkg/tutti.js /pkg/tutti.css /capture-processor.js; do
  asset_size "$f"
  enc=$(encoding "$f")
  printf '| `%s` | %d | %d | %s |\n' "$f" "$(stat -c %s "$SITE$f")" "${SIZE[$f]}" "${enc:-none}"
done
echo '(`/capture-processor.js` is loaded only when the microphone is enabled, so no first load counts it.)'

step "first load of each page"
PAGES=(/ /signin /annotate /upload /library /studio "/studio/$COMPOSITION" /admin/campaigns /admin/users /profile)
printf '\n| page | status | HTML | JavaScript | WebAssembly | CSS | first load |\n|---|---|--:|--:|--:|--:|--:|\n'
budget_total=""
for page in "${PAGES[@]}"; do
  url="$page" status="" html=0
  # The document, following redirects as a browser does; every hop's body counts.
  for _ in 1 2 3 4 5; do
    read -r code size location < <(curl -s -o "$DATA/page" -b "$JAR" -H "$ACCEPT" \
      -w '%{http_code} %{size_download} %{redirect_url}\n' "$BASE$url")
    html=$((html + size))
    status="${status:+$status→}$code"
    [[ "$code" == 3* && -n "$location" ]] || break
    url="${location#"$BASE"}"
  done
  # What the final document references (decoded): scripts, modules, WebAssembly and style sheets,
  # each fetched once.
  curl -s --compressed -o "$DATA/page" -b "$JAR" "$BASE$url"
  js=0 wasm=0 css=0
  while read -r asset; do
    asset_size "$asset"
    size=${SIZE[$asset]}
    case "$asset" in
      *.wasm) wasm=$((wasm + size)) ;;
      *.css) css=$((css + size)) ;;
      *) js=$((js + size)) ;;
    esac
  done < <(grep -oE "[\"'(](/[^\"' )?#]*\.(js|mjs|wasm|css))[\"')?#]" "$DATA/page" | cut -c2- | sed 's/.$//' | sort -u)
  total=$((html + js + wasm + css))
  printf '| `%s` | %s | %d | %d | %d | %d | **%d** |\n' "${page/$COMPOSITION/<id>}" "$status" "$html" "$js" "$wasm" "$css" "$total"
  if [ "$page" = "$BUDGET_PAGE" ]; then budget_total=$total; fi
done
echo "(bytes transferred: HTML documents and the scripts, WebAssembly and style sheets they reference;"
echo " every page loads the same bundle, so the pages differ only by their HTML)"
echo
echo "built in $((built - started)) s; measured in $((SECONDS - built)) s"

if $budget; then
  step "budget: first load of $BUDGET_PAGE at most $BUDGET_BYTES bytes"
  if [ -z "$budget_total" ] || [ "$budget_total" -eq 0 ]; then
    echo "no measurement of $BUDGET_PAGE" >&2
    exit 1
  fi
  if [ "$budget_total" -gt "$BUDGET_BYTES" ]; then
    echo "OVER BUDGET: $BUDGET_PAGE transfers $budget_total bytes on a first load, $((budget_total - BUDGET_BYTES)) over $BUDGET_BYTES" >&2
    exit 1
  fi
  echo "within budget: $budget_total of $BUDGET_BYTES bytes ($((BUDGET_BYTES - budget_total)) to spare)"
fi
