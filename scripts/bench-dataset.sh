#!/usr/bin/env bash
# Dataset releases at scale: compiling a release of 20,000 clips and downloading its archive
# (about 2.4 GB, tar and zip) over HTTP, with the server's memory watched throughout.
#
# How each side runs (all on this one machine, nothing pinned to a core):
#   - PostgreSQL: a throwaway pg_virtualenv cluster (Debian's defaults plus pg_virtualenv's fsync=off).
#   - The server: the release `server` binary, serving from a local object-store directory; the
#     compile runs in its job worker, the downloads are its ordinary `archive.tar` / `archive.zip`
#     responses, fetched by `curl` into /dev/null over loopback.
#   - The references, one after the other on the same bytes, read from the same page cache: the
#     release's files laid out on disk under their archive paths (clips as symlinks to the stored
#     objects, the generated files copied), then GNU `tar --hard-dereference -ch` of that tree
#     piped into `wc -c` (tar skips reading when it writes to /dev/null itself), `cat` of every
#     file into /dev/null, and `sha256sum` of the clips (what the compile's "reading audio" phase
#     does; Tutti also computes a CRC-32 in the same pass).
#
# Data (generated in SQL straight into the tables after `server migrate`; no HTTP): SOURCES public
# CC-BY sources of CLIPS/SOURCES ten-second clips each, one campaign over INSTRUMENTS instruments
# with PER_TASK answers per task, every task complete, the answers spread over ANNOTATORS
# annotators (CLIPS × PER_TASK answers). Every clip's canonical object is one of OBJECTS real FLAC
# files (ten-second tones, about 120 KB each), so the archive is gigabytes without the disk
# holding them.
#
# Steps: build the server (release); start the cluster; migrate; generate; start the server; sign
# in as the demo admin; create a dataset and compile release 1 over REST, sampling the release
# row's phase every 0.1 s; download the tar and the zip with curl while sampling the server's
# VmRSS every 0.1 s; run the references; write bench/DATASET.md; stop everything. The measured
# part runs inside `flock /tmp/tutti-bench.lock`, after waiting (up to QUIET_WAIT seconds) until
# other processes use at most QUIET_CORES cores.
#
# Knobs (environment): CLIPS=20000 SOURCES=400 ANNOTATORS=1000 PER_TASK=5 INSTRUMENTS=10 OBJECTS=5
#   TOLERANCE=0.2 REPORT=bench/DATASET.md SKIP_BUILD=1 (use the binary already built)
#   BENCH_BIN=DIR (take `server` from DIR) BENCH_PROJECT_PROFILE=1 (build with the workspace's own
#   release profile, thin LTO, instead of LTO off and 16 codegen units)
#   QUIET_WAIT=300 QUIET_CORES=0.3
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tutti/target}"
export LEPTOS_OUTPUT_NAME=tutti
export PATH="$HOME/.cargo/bin:$PATH"
BIN="${BENCH_BIN:-$CARGO_TARGET_DIR/release}"

CLIPS="${CLIPS:-20000}"
SOURCES="${SOURCES:-400}"
ANNOTATORS="${ANNOTATORS:-1000}"
PER_TASK="${PER_TASK:-5}"
INSTRUMENTS="${INSTRUMENTS:-10}"
OBJECTS="${OBJECTS:-5}"
TOLERANCE="${TOLERANCE:-0.2}"
REPORT="${REPORT:-$ROOT/bench/DATASET.md}"
QUIET_WAIT="${QUIET_WAIT:-300}"
QUIET_CORES="${QUIET_CORES:-0.3}"
LOCK=/tmp/tutti-bench.lock

step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }

BUILD_ENV=(CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16)
[ -n "${BENCH_PROJECT_PROFILE:-}" ] && BUILD_ENV=()

if [ -z "${TUTTI_BENCH_INSIDE:-}" ]; then
  cd "$ROOT"
  if [ -z "${SKIP_BUILD:-}" ]; then
    step "building the server (release)"
    env "${BUILD_ENV[@]}" cargo build --release -p server
  fi
  [ -x "$BIN/server" ] || { echo "missing $BIN/server (run without SKIP_BUILD)" >&2; exit 1; }
  for tool in pg_virtualenv ffmpeg curl jq python3 tar sha256sum; do
    command -v "$tool" >/dev/null || { echo "$tool is missing" >&2; exit 1; }
  done
  step "starting a throwaway PostgreSQL cluster"
  exec pg_virtualenv -t env TUTTI_BENCH_INSIDE=1 BUILD_DESC="${BUILD_ENV[*]:-as in Cargo.toml}" \
    "$ROOT/scripts/bench-dataset.sh" "$@"
fi

# ---- inside pg_virtualenv: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE are set ----
cd "$ROOT"
WORK="$(mktemp -d /tmp/tutti-bench-dataset.XXXXXX)"
SERVER_PID=""
SAMPLER_PID=""
cleanup() {
  local rc=$?
  set +e
  for pid in $SAMPLER_PID $SERVER_PID; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  if [ $rc -ne 0 ]; then
    echo "benchmark failed (exit $rc); last server log lines:" >&2
    tail -20 "$WORK/server.log" >&2 2>/dev/null
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local p
  while :; do
    p=$((30000 + RANDOM % 20000))
    if [ -z "$(ss -Hltn "sport = :$p")" ]; then echo "$p"; return; fi
  done
}
now() { echo "$EPOCHREALTIME"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
mbps() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s / 1e6; else print "n/a" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; } # kB (VmRSS) -> MiB

DB=tutti_bench
createdb "$DB"
DATABASE_URL="postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$DB?sslmode=disable"
sql() { psql -qAtX -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
mkdir -p "$WORK/site" "$WORK/objects/bench" "$WORK/tmp"
SERVER_ENV=(DATABASE_URL="$DATABASE_URL" TUTTI_BIND="127.0.0.1:$PORT" TUTTI_PUBLIC_URL="$BASE/" TUTTI_DEMO=true
  TUTTI_STORAGE="$WORK/objects" TUTTI_TMP_DIR="$WORK/tmp" TUTTI_ADMIN_EMAILS=admin@demo.tutti.invalid
  LEPTOS_SITE_ROOT="$WORK/site" TUTTI_LOG=warn TUTTI_JOB_POLL_MS=100)

step "migrating"
env "${SERVER_ENV[@]}" "$BIN/server" migrate >/dev/null

step "making $OBJECTS FLAC objects (ten-second tones, mono, 44.1 kHz)"
for i in $(seq 0 $((OBJECTS - 1))); do
  ffmpeg -v error -y -f lavfi -i "sine=f=$((220 + 37 * i)):d=10:sample_rate=44100" -af "volume=0.$((1 + i))" \
    -ac 1 -sample_fmt s16 -c:a flac "$WORK/objects/bench/clip-$i.flac"
done
OBJECT_BYTES="$(du -cb "$WORK"/objects/bench/*.flac | tail -1 | cut -f1)"

step "generating $CLIPS clips of $SOURCES sources, $((CLIPS * PER_TASK)) answers by $ANNOTATORS annotators"
GEN_START="$(now)"
sql <<SQL
BEGIN;
CREATE TEMP TABLE inst AS
  SELECT row_number() OVER (ORDER BY position, slug) - 1 AS n, slug FROM instruments ORDER BY position, slug LIMIT $INSTRUMENTS;
INSERT INTO users (id, email, display_name, avatar_url, is_admin, created_at, last_seen_at)
  SELECT md5('owner')::uuid, 'owner@bench.invalid', 'Bench owner', NULL, false, now() - interval '2 days', now();
INSERT INTO users (id, email, display_name, avatar_url, is_admin, created_at, last_seen_at)
  SELECT md5('annotator-' || u)::uuid, 'annotator-' || u || '@bench.invalid', 'Annotator ' || u, NULL, false,
         now() - interval '2 days', now()
  FROM generate_series(0, $ANNOTATORS - 1) u;
-- Sources: public, CC-BY, fifty artists.
INSERT INTO audio (id, kind, parent_id, parent_offset_frames, owner_id, is_public, sha256, original_filename,
    original_format, original_codec, original_bytes, original_rate, original_channels, canonical_rate,
    canonical_channels, frames, duration_seconds, title, artist, album, tags, license, loudness_lufs,
    original_key, canonical_key, peaks_key, created_at, composition_id)
  SELECT md5('source-' || s)::uuid, 'upload', NULL, NULL, md5('owner')::uuid, true,
         encode(sha256(('source-' || s)::bytea), 'hex'), 'source-' || s || '.flac', 'flac', 'flac', 0, 44100, 1,
         44100, 1, ceil($CLIPS::numeric / $SOURCES)::bigint * 441000, ceil($CLIPS::numeric / $SOURCES) * 10.0,
         'Bench source ' || s, 'Artist ' || (s % 50), NULL, '[]', 'CC-BY-4.0', NULL,
         'bench/clip-' || (s % $OBJECTS) || '.flac', 'bench/clip-' || (s % $OBJECTS) || '.flac', 'bench/none.peaks',
         now() - interval '2 days', NULL
  FROM generate_series(0, $SOURCES - 1) s;
-- Clips: ten seconds each, cut one after another from their source.
CREATE TEMP TABLE c AS
  SELECT c, md5('clip-' || c)::uuid AS clip, md5('task-' || c)::uuid AS task,
         md5('source-' || (c % $SOURCES))::uuid AS source, (c / $SOURCES)::bigint * 441000 AS offset_frames
  FROM generate_series(0, $CLIPS - 1) c;
INSERT INTO audio (id, kind, parent_id, parent_offset_frames, owner_id, is_public, sha256, original_filename,
    original_format, original_codec, original_bytes, original_rate, original_channels, canonical_rate,
    canonical_channels, frames, duration_seconds, title, artist, album, tags, license, loudness_lufs,
    original_key, canonical_key, peaks_key, created_at, composition_id)
  SELECT clip, 'clip', source, offset_frames, md5('owner')::uuid, true, encode(sha256(('clip-' || c)::bytea), 'hex'),
         'clip-' || c || '.flac', 'flac', 'flac', 0, 44100, 1, 44100, 1, 441000, 10.0, NULL, NULL, NULL, '[]',
         'CC-BY-4.0', NULL, 'bench/clip-' || (c % $OBJECTS) || '.flac', 'bench/clip-' || (c % $OBJECTS) || '.flac',
         'bench/none.peaks', now() - interval '2 days', NULL
  FROM c;
INSERT INTO campaigns (id, name, instructions, clip_seconds, annotations_per_task, instruments, gold_rate,
    stats_every, is_open, created_by, created_at)
  SELECT md5('campaign')::uuid, 'Bench', '', 10.0, $PER_TASK, json_agg(slug ORDER BY n)::text, 0.0, 0, false,
         md5('owner')::uuid, now() - interval '2 days'
  FROM inst;
INSERT INTO tasks (id, campaign_id, clip_id, source_id, offset_frames, is_gold, gold_answers, annotations_count,
    annotations_required, is_complete, created_at, reserved)
  SELECT task, md5('campaign')::uuid, clip, source, offset_frames, false, NULL, $PER_TASK, $PER_TASK, true,
         now() - interval '2 days', 0
  FROM c;
-- Answers: each instrument is truly present in about a third of the clips; each annotator gets
-- one answer in ten wrong and says "unsure" to one in twenty.
CREATE TEMP TABLE truth AS
  SELECT c.c, inst.slug, inst.n, abs(hashtext(c.c || ':' || inst.slug)::bigint) % 3 = 0 AS present FROM c CROSS JOIN inst;
INSERT INTO annotations (id, task_id, user_id, campaign_id, client_id, answers, play_count, listening_ms,
    time_to_submit_ms, is_gold, gold_correct, gold_total, created_at, seq)
  SELECT md5('answer-' || a.c || '-' || a.j)::uuid, c.task, md5('annotator-' || ((a.c * $PER_TASK + a.j) % $ANNOTATORS))::uuid,
         md5('campaign')::uuid, 'bench-' || a.c || '-' || a.j, a.answers, 1, 10000, 12000, false, NULL, NULL,
         now() - interval '1 day' + (a.c * $PER_TASK + a.j) * interval '1 ms', NULL
  FROM (
    SELECT t.c, j.j, json_object_agg(t.slug,
             CASE WHEN abs(hashtext(t.c || ':' || t.slug || ':' || j.j)::bigint) % 20 = 0 THEN 'unsure'
                  WHEN (abs(hashtext(t.c || ':' || t.slug || ':' || j.j)::bigint) % 10 = 1) <> t.present THEN 'present'
                  ELSE 'absent' END ORDER BY t.n)::text AS answers
    FROM truth t CROSS JOIN generate_series(0, $PER_TASK - 1) j(j)
    GROUP BY t.c, j.j
  ) a JOIN c ON c.c = a.c;
COMMIT;
ANALYZE;
SQL
GEN_SECONDS="$(secs "$GEN_START" "$(now)")"
read -r N_CLIPS N_TASKS N_ANSWERS N_ANNOTATORS N_INSTRUMENTS <<<"$(sql -F ' ' -c "SELECT
  (SELECT count(*) FROM audio WHERE kind = 'clip'), (SELECT count(*) FROM tasks WHERE is_complete),
  (SELECT count(*) FROM annotations), (SELECT count(DISTINCT user_id) FROM annotations),
  (SELECT json_array_length(instruments::json) FROM campaigns LIMIT 1)")"
echo "generated in ${GEN_SECONDS}s: $N_CLIPS clips, $N_TASKS complete tasks, $N_ANSWERS answers, $N_ANNOTATORS annotators, $N_INSTRUMENTS instruments" >&2

step "starting the server on $BASE"
env "${SERVER_ENV[@]}" "$BIN/server" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 600); do
  curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server exited" >&2; exit 1; }
  sleep 0.1
done
curl -fsS "$BASE/healthz" >/dev/null || { echo "the server did not become healthy" >&2; exit 1; }

# The server's resident memory every 0.1 s ("epoch-seconds kB"), read without forking.
rss_sampler() {
  local k v rss
  while [ -r "/proc/$SERVER_PID/status" ]; do
    rss=""
    { while read -r k v _; do if [ "$k" = "VmRSS:" ]; then rss=$v; fi; done; } <"/proc/$SERVER_PID/status" 2>/dev/null || break
    [ -n "$rss" ] && echo "$EPOCHREALTIME $rss"
    sleep 0.1
  done
}
rss_sampler >"$WORK/rss.log" &
SAMPLER_PID=$!
rss_now() { awk 'NF == 2 { r = $2 } END { print r + 0 }' "$WORK/rss.log"; }
rss_peak() { awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b && $2 > m { m = $2 } END { print m + 0 }' "$WORK/rss.log"; }
cpu_ticks() { local f; read -r -a f <"/proc/$SERVER_PID/stat"; echo $((f[13] + f[14])); }
TICK="$(getconf CLK_TCK)"
cpu_secs() { awk -v a="$1" -v b="$2" -v t="$TICK" 'BEGIN { printf "%.1f", (b - a) / t }'; }

JAR="$WORK/cookies"
curl -fsS -c "$JAR" -b "$JAR" -o /dev/null -H "Origin: $BASE" --data 'role=admin&next=/' "$BASE/auth/demo"
api() { # METHOD PATH [JSON]
  curl -fsS -b "$JAR" -H "Origin: $BASE" -H 'Content-Type: application/json' -X "$1" ${3:+--data "$3"} "$BASE$2"
}
api POST /api/v1/datasets '{"slug": "bench", "name": "Bench", "visibility": "admins"}' >/dev/null

# Machine quiet enough? Busy cores over one second, from /proc/stat.
busy_cores() {
  local a b
  read -r -a a < <(head -1 /proc/stat)
  sleep 1
  read -r -a b < <(head -1 /proc/stat)
  awk -v n="$(nproc)" -v u="$(((b[1] + b[2] + b[3] + b[6] + b[7]) - (a[1] + a[2] + a[3] + a[6] + a[7])))" \
    -v i="$(((b[4] + b[5]) - (a[4] + a[5])))" 'BEGIN { printf "%.2f", ((u + i) > 0 ? n * u / (u + i) : 0) }'
}
exec 9>"$LOCK"
step "waiting for the benchmark lock"
flock 9
WAITED=0
BUSY="$(busy_cores)"
while awk -v b="$BUSY" -v q="$QUIET_CORES" 'BEGIN { exit !(b > q) }' && [ "$WAITED" -lt "$QUIET_WAIT" ]; do
  [ $((WAITED % 30)) -eq 0 ] && echo "other processes use $BUSY cores; waiting (at most ${QUIET_WAIT}s)" >&2
  sleep 4
  WAITED=$((WAITED + 5))
  BUSY="$(busy_cores)"
done

# ---- compile: phases sampled from the release row ----
step "compiling release 1 over REST"
CAMPAIGN="$(sql -c "SELECT md5('campaign')::uuid")"
RSS_IDLE="$(rss_now)"
COMPILE_CPU0="$(cpu_ticks)"
COMPILE_START="$(now)"
echo "$COMPILE_START|compiling|request" >"$WORK/phases.log"
api POST /api/v1/datasets/bench/releases \
  "{\"campaigns\": [\"$CAMPAIGN\"], \"seed\": 1, \"tolerance\": $TOLERANCE, \"notes\": \"benchmark\"}" >"$WORK/asked.json"
RELEASE="$(jq -r .id "$WORK/asked.json")"
LAST=""
while :; do
  ROW="$(sql -c "SELECT state || '|' || phase FROM dataset_releases WHERE id = '$RELEASE'")"
  T="$(now)"
  if [ "$ROW" != "$LAST" ]; then
    echo "$T|$ROW" >>"$WORK/phases.log"
    echo "  $(secs "$COMPILE_START" "$T") s: $ROW" >&2
    LAST="$ROW"
  fi
  case "$ROW" in compiling*) sleep 0.1 ;; *) break ;; esac
done
COMPILE_END="$(now)"
COMPILE_CPU="$(cpu_secs "$COMPILE_CPU0" "$(cpu_ticks)")"
COMPILE_SECONDS="$(secs "$COMPILE_START" "$COMPILE_END")"
RSS_COMPILE_PEAK="$(rss_peak "$COMPILE_START" "$COMPILE_END")"
api GET /api/v1/datasets/bench/releases/1 >"$WORK/release.json"
[ "$(jq -r .state "$WORK/release.json")" = compiled ] || { echo "the release did not compile: $(jq -c '{state, error}' "$WORK/release.json")" >&2; exit 1; }
TAR_BYTES="$(jq .tar_bytes "$WORK/release.json")"
ZIP_BYTES="$(jq .zip_bytes "$WORK/release.json")"
SAMPLES="$(jq .report.samples "$WORK/release.json")"
AUDIO_BYTES="$(jq .report.audio_bytes "$WORK/release.json")"
# Seconds per phase: from each change of the row to the next.
awk -F'|' 'NR > 1 { printf "%s|%.2f\n", phase, $1 - t } { t = $1; phase = $3 }' "$WORK/phases.log" >"$WORK/phase-seconds"
phase_secs() { awk -F'|' -v p="$1" '$1 == p { s += $2 } END { printf "%.2f", s + 0 }' "$WORK/phase-seconds"; }
HASH_SECONDS="$(phase_secs "reading audio")"

# ---- downloads ----
download() { # FILE -> "status bytes seconds rss_before rss_peak cpu_seconds"
  local before start end cpu0 out
  sleep 1 # let the sampler see the idle server
  before="$(rss_now)"
  cpu0="$(cpu_ticks)"
  start="$(now)"
  out="$(curl -sS -b "$JAR" -o /dev/null -w '%{http_code} %{size_download}' "$BASE/api/v1/datasets/bench/releases/1/$1")"
  end="$(now)"
  sleep 0.3 # one more sample after the end
  echo "$out $(secs "$start" "$end") $before $(rss_peak "$start" "$end") $(cpu_secs "$cpu0" "$(cpu_ticks)")"
}
step "downloading archive.tar ($TAR_BYTES bytes)"
read -r TAR_STATUS TAR_GOT TAR_S TAR_RSS0 TAR_RSS_PEAK TAR_CPU <<<"$(download archive.tar)"
step "downloading archive.zip ($ZIP_BYTES bytes)"
read -r ZIP_STATUS ZIP_GOT ZIP_S ZIP_RSS0 ZIP_RSS_PEAK ZIP_CPU <<<"$(download archive.zip)"
for f in "TAR $TAR_STATUS $TAR_GOT $TAR_BYTES" "ZIP $ZIP_STATUS $ZIP_GOT $ZIP_BYTES"; do
  read -r name status got want <<<"$f"
  [ "$status" = 200 ] && [ "$got" = "$want" ] || { echo "$name download: status $status, $got of $want bytes" >&2; exit 1; }
done
RSS_AFTER="$(rss_now)"

# ---- references on the same bytes ----
step "laying the release's files out on disk for the references"
sql -F $'\t' -c "SELECT f.path, coalesce(f.storage_key, a.canonical_key), f.audio_id IS NOT NULL
  FROM release_files f LEFT JOIN audio a ON a.id = f.audio_id WHERE f.release_id = '$RELEASE' ORDER BY f.position" \
  >"$WORK/files.tsv"
python3 - "$WORK/files.tsv" "$WORK/objects" "$WORK/layout" <<'PY'
import os, shutil, sys
listing, objects, layout = sys.argv[1:]
with open(listing) as f, open(layout + ".all", "w") as all_, open(layout + ".clips", "w") as clips:
    for line in f:
        path, key, is_clip = line.rstrip("\n").split("\t")
        dest = os.path.join(layout, path)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if is_clip == "t":
            os.symlink(os.path.join(objects, key), dest)
            clips.write(dest + "\n")
        else:
            shutil.copyfile(os.path.join(objects, key), dest)
        all_.write(dest + "\n")
PY
N_FILES="$(wc -l <"$WORK/layout.all")"
timed() { # command... -> seconds
  local start
  start="$(now)"
  "$@"
  secs "$start" "$(now)"
}
ref_cat() { xargs -d '\n' cat <"$WORK/layout.all" >/dev/null; }
ref_sha() { xargs -d '\n' sha256sum <"$WORK/layout.clips" >/dev/null; }
step "references: tar, cat, sha256sum"
REF_START="$(now)"
REF_TAR_BYTES="$(tar --hard-dereference -ch -C "$WORK/layout" -f - . | wc -c)"
REF_TAR_S="$(secs "$REF_START" "$(now)")"
REF_CAT_S="$(timed ref_cat)"
REF_SHA_S="$(timed ref_sha)"
FILE_BYTES="$(sql -c "SELECT sum(size) FROM release_files WHERE release_id = '$RELEASE'")"
flock -u 9

# ---- the report ----
TAR_MBPS="$(mbps "$TAR_GOT" "$TAR_S")"
ZIP_MBPS="$(mbps "$ZIP_GOT" "$ZIP_S")"
REF_TAR_MBPS="$(mbps "$REF_TAR_BYTES" "$REF_TAR_S")"
REF_CAT_MBPS="$(mbps "$FILE_BYTES" "$REF_CAT_S")"
HASH_MBPS="$(mbps "$AUDIO_BYTES" "$HASH_SECONDS")"
REF_SHA_MBPS="$(mbps "$AUDIO_BYTES" "$REF_SHA_S")"
TAR_GROWTH="$((TAR_RSS_PEAK - TAR_RSS0))"
ZIP_GROWTH="$((ZIP_RSS_PEAK - ZIP_RSS0))"
GROWTH_MAX="$((TAR_GROWTH > ZIP_GROWTH ? TAR_GROWTH : ZIP_GROWTH))"
VERDICT="$(awk -v g="$GROWTH_MAX" -v b="$TAR_BYTES" 'BEGIN { print (g < 100 * 1024 && b >= 2e9) ? "met" : "NOT met" }')"

step "writing $REPORT"
CPU_MODEL="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
MEM="$(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
PG_VERSION="$(sql -c 'SHOW server_version')"
COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
DIRTY="$(git -C "$ROOT" status --porcelain -- server app dataset migrations Cargo.lock 2>/dev/null | awk '{print $2}')"
# Name the changed files when they are few, else count them.
if [ "$(echo "$DIRTY" | grep -c .)" -gt 8 ]; then DIRTY="$(echo "$DIRTY" | grep -c .) files"; else DIRTY="$(echo "$DIRTY" | paste -sd ' ')"; fi
PHASE_ROWS="$(awk -F'|' '{ printf "| %s | %s |\n", $1, $2 }' "$WORK/phase-seconds")"
{
  cat <<EOF
# Dataset releases at scale

Written by \`scripts/bench-dataset.sh\`; run it again to refresh every figure below.

A release of $SAMPLES ten-second clips is compiled through the REST API and its archive is
downloaded over HTTP as tar and as zip (each $(awk -v b="$TAR_BYTES" 'BEGIN { printf "%.2f", b / 1e9 }') GB), while the
server's resident memory is sampled every 0.1 s. The goal: the archive is streamed from the
release's file list without being materialised, so the server grows by less than 100 MB while
serving an archive of 2 GB or more — **$VERDICT** in this run (largest growth
$(mib "$GROWTH_MAX") MiB).

**How each side runs.** Everything shares one machine ($(nproc) cores) and nothing is pinned.
Tutti: the release \`server\` binary with a local object-store directory, talking to a throwaway
PostgreSQL cluster over loopback TCP; the compile runs in the server's job worker (one job at a
time), phases timed from the release row (\`phase\`, sampled every 0.1 s with \`psql\`); each
download is one \`curl\` into \`/dev/null\` over loopback (HTTP/1.1, one connection). The
references run one after the other on the same bytes, after the downloads: the release's
$N_FILES files laid out under their archive paths (each clip a symlink to its stored object, the
generated files copied), all read from the page cache like the server's reads.

- **tar**: \`tar --hard-dereference -ch -C layout -f - . | wc -c\` (GNU tar $(tar --version | head -1 | awk '{print $NF}'),
  following the symlinks and storing every clip whole although many share an object; piped
  because tar skips reading files when it writes to \`/dev/null\` itself). Same files, same
  format family (ustar/GNU headers): the nearest thing to "the same archive".
- **cat**: \`xargs cat < list > /dev/null\` over every file: the cost of just reading the bytes.
- **sha256sum**: \`xargs sha256sum < clips > /dev/null\` over the $SAMPLES clips, against the compile's
  "reading audio" phase, which reads every clip from the object store and computes its SHA-256
  and CRC-32 (one clip at a time, progress written to the row every 50 clips).

## Machine and build

- date: $(date -u '+%Y-%m-%d %H:%M UTC')
- CPU: $CPU_MODEL, $(nproc) cores; memory: $MEM; kernel $(uname -r)
- PostgreSQL $PG_VERSION in a throwaway \`pg_virtualenv\` cluster (\`fsync=off\`)
- build: commit \`$COMMIT\`${DIRTY:+, with uncommitted changes in: $DIRTY}; $(rustc --version 2>/dev/null || echo rustc);
  release profile ${BUILD_DESC:-as in Cargo.toml}
- before the measured part, other processes used $BUSY cores (waited ${WAITED} s for at most $QUIET_CORES)

## Data

Generated in SQL (\`generate_series\`) in ${GEN_SECONDS} s, straight into the tables after \`server migrate\`:
$N_CLIPS clips (audio rows of kind \`clip\`) cut from $SOURCES public CC-BY sources, one campaign of
$N_INSTRUMENTS instruments with $N_TASKS complete tasks, $N_ANSWERS answers by $N_ANNOTATORS
annotators ($PER_TASK per task; each instrument present in about a third of the clips, one answer
in ten wrong, one in twenty "unsure"). Every clip's canonical object is one of $OBJECTS real FLAC
files of ten-second tones ($(awk -v b="$OBJECT_BYTES" -v n="$OBJECTS" 'BEGIN { printf "%.0f", b / n / 1000 }') KB on average, $(awk -v b="$OBJECT_BYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB on disk in all), so the
release holds $(awk -v b="$AUDIO_BYTES" 'BEGIN { printf "%.2f", b / 1e9 }') GB of audio. Release parameters: majority rule, threshold 0.6,
test fraction 0.25 grouped by source, tolerance $TOLERANCE, seed 1.

## Compile (REST, the server's job worker)

**$COMPILE_SECONDS s** from the request to \`compiled\`, $COMPILE_CPU s of server CPU; $SAMPLES samples,
$N_FILES files in the archive. Seconds per phase (from one change of the release row to the next):

| phase | seconds |
|---|--:|
$PHASE_ROWS

Hashing: "reading audio" at **$HASH_MBPS MB/s** (SHA-256 + CRC-32 of
$(awk -v b="$AUDIO_BYTES" 'BEGIN { printf "%.2f", b / 1e9 }') GB) against \`sha256sum\` of the same files at $REF_SHA_MBPS MB/s
($REF_SHA_S s): Tutti / sha256sum = **$(ratio "$REF_SHA_S" "$HASH_SECONDS")** in throughput.

## Downloads (HTTP, curl to /dev/null)

| archive | bytes | seconds | MB/s | server CPU s | RSS before | RSS peak | growth |
|---|--:|--:|--:|--:|--:|--:|--:|
| archive.tar | $TAR_GOT | $TAR_S | **$TAR_MBPS** | $TAR_CPU | $(mib "$TAR_RSS0") MiB | $(mib "$TAR_RSS_PEAK") MiB | **$(mib "$TAR_GROWTH") MiB** |
| archive.zip | $ZIP_GOT | $ZIP_S | **$ZIP_MBPS** | $ZIP_CPU | $(mib "$ZIP_RSS0") MiB | $(mib "$ZIP_RSS_PEAK") MiB | **$(mib "$ZIP_GROWTH") MiB** |

Server RSS: $(mib "$RSS_IDLE") MiB idle before the compile, $(mib "$RSS_COMPILE_PEAK") MiB at the compile's peak (it holds
every sample's answers while it labels and splits), $(mib "$RSS_AFTER") MiB after both downloads.
MB is 10⁶ bytes; RSS is \`VmRSS\` from \`/proc/PID/status\`, sampled every 0.1 s.

## Against the references

| | seconds | MB/s | Tutti / reference (throughput) |
|---|--:|--:|--:|
| \`tar -ch … \| wc -c\` ($REF_TAR_BYTES bytes) | $REF_TAR_S | $REF_TAR_MBPS | tar download: **$(ratio "$TAR_MBPS" "$REF_TAR_MBPS")**, zip download: **$(ratio "$ZIP_MBPS" "$REF_TAR_MBPS")** |
| \`cat\` of every file ($FILE_BYTES bytes) | $REF_CAT_S | $REF_CAT_MBPS | tar download: $(ratio "$TAR_MBPS" "$REF_CAT_MBPS") |
| \`sha256sum\` of the clips ($AUDIO_BYTES bytes) | $REF_SHA_S | $REF_SHA_MBPS | "reading audio": $(ratio "$HASH_MBPS" "$REF_SHA_MBPS") |

The download figures include HTTP over loopback and \`curl\`'s own reading on the same two cores;
the references write into a pipe or \`/dev/null\` in the same process family, with no network in
between.

## Commands

\`\`\`bash
scripts/bench-dataset.sh          # all of the above; knobs: CLIPS SOURCES ANNOTATORS PER_TASK INSTRUMENTS OBJECTS TOLERANCE
# which runs, with \$BASE on a free local port and a demo admin's session cookie:
curl -X POST \$BASE/api/v1/datasets/bench/releases -d '{"campaigns": ["$CAMPAIGN"], "seed": 1, "tolerance": $TOLERANCE, "notes": "benchmark"}'
curl -o /dev/null \$BASE/api/v1/datasets/bench/releases/1/archive.tar
curl -o /dev/null \$BASE/api/v1/datasets/bench/releases/1/archive.zip
tar --hard-dereference -ch -C \$WORK/layout -f - . | wc -c
xargs -d '\n' cat < \$WORK/layout.all > /dev/null
xargs -d '\n' sha256sum < \$WORK/layout.clips > /dev/null
\`\`\`

The same release from a shell, without a running server: \`server dataset compile --dataset bench
--campaign $CAMPAIGN --as admin@demo.tutti.invalid\` and \`server dataset export bench 1 --format tar
--out bench-v1.tar\`.
EOF
} >"$REPORT"

step "results"
cat "$WORK/phase-seconds" | tr '|' '\t'
echo "compile ${COMPILE_SECONDS}s; tar ${TAR_MBPS} MB/s (tar -c ${REF_TAR_MBPS} MB/s), zip ${ZIP_MBPS} MB/s"
echo "RSS growth: tar $(mib "$TAR_GROWTH") MiB, zip $(mib "$ZIP_GROWTH") MiB (goal < 100 MB for >= 2 GB: $VERDICT)"
echo "report: $REPORT"
