#!/usr/bin/env bash
# Page weight of the studio: what a browser transfers for the composition page's WebAssembly,
# JavaScript and CSS (and the recording worklet), from the release build of the front end, served
# by the server with compression as a browser asks for it (Accept-Encoding: gzip, deflate, br).
#
#   scripts/page-weight.sh
#
# Needs binaryen's wasm-opt (installed if missing), as a release build of the front end runs it.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT" || exit 1
ensure_rust
ensure_cargo_tools
ensure_apt binaryen curl

SITE="$(mktemp -d /tmp/tutti-weight-site.XXXXXX)"
DATA="$(mktemp -d /tmp/tutti-weight-data.XXXXXX)"
trap 'kill "$PID" 2>/dev/null; rm -rf "$SITE" "$DATA"' EXIT
step "release build of the front end"
LEPTOS_SITE_ROOT="$SITE" cargo leptos build --release --frontend-only
cargo leptos build --server-only

step "serving it"
PORT=$((20000 + RANDOM % 20000))
TUTTI_BIND="127.0.0.1:$PORT" DATABASE_URL="sqlite://$DATA/t.db?mode=rwc" TUTTI_STORAGE="$DATA/objects" \
  LEPTOS_SITE_ROOT="$SITE" TUTTI_LOG=warn "$CARGO_TARGET_DIR/debug/server" &
PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

printf '\n| file | bytes on disk | bytes transferred | encoding |\n|---|--:|--:|---|\n'
total=0
for f in /pkg/tutti.wasm /pkg/tutti.js /pkg/tutti.css /capture-processor.js; do
  transferred=$(curl -s -o /dev/null -H 'accept-encoding: gzip, deflate, br' -w '%{size_download}' "http://127.0.0.1:$PORT$f")
  encoding=$(curl -s -o /dev/null -D - -H 'accept-encoding: gzip, deflate, br' "http://127.0.0.1:$PORT$f" |
    tr -d '\r' | awk -F': ' 'tolower($1)=="content-encoding"{print $2}')
  ondisk=$(stat -c %s "$SITE$f")
  total=$((total + transferred))
  printf '| `%s` | %d | %d | %s |\n' "$f" "$ondisk" "$transferred" "${encoding:-none}"
done
printf '| total | | %d | |\n' "$total"
