#!/usr/bin/env bash
# Ingest throughput: Tutti's ingest pipeline (audio::ingest, through the ingest_bench example)
# against ffmpeg doing the same conversion, on the same files, on every core.
#
#   scripts/bench-ingest.sh
#
# 1. Generates a corpus once into ${TUTTI_BENCH_DIR:-~/.cache/tutti/bench-corpus}/corpus-<hash of
#    its recipe> (synthetic signals made with ffmpeg: pink noise, tones, one beeping, tremolo;
#    different per channel): "mixed" = 56 files of 2 to 25 s (about ten minutes in all), the
#    corpus the acceptance goal names, and "long" = 16 files of 180 s, spread over WAV 16/24-bit,
#    AIFF, FLAC, MP3, Ogg Vorbis, AAC (M4A) and ALAC (M4A), at 16 to 96 kHz, mono, stereo and 5.1. Files are written under a hidden name and renamed when complete,
#    and the corpus is stamped when all of it exists, so an interrupted run resumes and a complete
#    corpus is reused.
# 2. Builds the example twice (see the build step): with the build flags used for quick release
#    builds here (LTO off, 16 codegen units) and with the workspace's own release profile, which
#    is what the server ships with. Both are measured.
# 3. For each set, runs every side twice under `flock /tmp/tutti-bench.lock` (so it never overlaps
#    another benchmark run on this machine), in the order A B C C B A, repeats a run during which
#    other processes took 10 % or more of the CPU, and keeps the faster undisturbed run:
#    * Tutti:  ingest_bench --jobs N --out OUT DIR: N threads over a shared queue; per file
#              decode -> fold-down (>2 ch) -> resample to 44.1 kHz -> FLAC, plus waveform peaks
#              (written as .peaks.dat) and EBU R128 integrated loudness.
#    * ffmpeg: one process per file, N at a time (xargs -P N), same file order (largest first):
#              decode -> [-ac 2 for >2 ch] -> aresample (soxr if available) to 44.1 kHz -> FLAC,
#              16-bit, or 24-bit where Tutti keeps 24 bits (lossless sources deeper than 16 bits).
#    All sides read the same files from the page cache and write FLAC files to the same disk.
#    Each run is timed from outside with `date +%s.%N` (process start-up included), its CPU time
#    is taken from bash's `times`, and the CPU time other processes used meanwhile from /proc/stat.
#    Then `ingest_bench --jobs 1 --profile` (release-profile build) times Tutti's stages.
# 4. Checks that every side produced every file with the same rate, channels and bit depth and
#    nearly the same length, and that the two Tutti builds wrote identical files.
# 5. Prints the table and writes it, with the machine, versions and exact commands, to
#    bench/INGEST.md.
#
# Environment: TUTTI_BENCH_DIR (corpus and scratch), TUTTI_BENCH_JOBS (default: nproc),
# TUTTI_BENCH_PROFILE=0 skips the profile run. Needs ffmpeg (installed if missing).
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT" || exit 1

BENCH_DIR="${TUTTI_BENCH_DIR:-$HOME/.cache/tutti/bench-corpus}"
JOBS="${TUTTI_BENCH_JOBS:-$(nproc)}"
OUT="$BENCH_DIR/out"
RESULTS="$BENCH_DIR/results"
LOCK=/tmp/tutti-bench.lock
REPORT="$ROOT/bench/INGEST.md"
SETS=(mixed long)
# Sides, in run order: Tutti (workspace release profile), Tutti (LTO off build), ffmpeg.
TOOLS=(tutti tutti_lto_off ffmpeg)
declare -A TOOL_NAME=([tutti]="Tutti" [tutti_lto_off]="Tutti, LTO-off build" [ffmpeg]="ffmpeg")
# Each build is copied here, as the two builds share $CARGO_TARGET_DIR/release/examples/.
BIN_DIR="$BENCH_DIR/bin"
export BENCH_DIR JOBS OUT RESULTS

FORMATS=(wav16 wav24 aiff flac mp3 ogg aac alac)
RATES=(22050 32000 44100 48000 96000)
MIXED_RATES=(16000 22050 32000 44100 48000 88200 96000)
MIXED_SECONDS=(2 4 6 10 15 25)
LONG_SECONDS=180

# ---------------------------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------------------------

# Prints "set name format rate channels bits seconds" for every corpus file.
corpus_spec() {
  local fx rx f r ch n=0 p picks
  for fx in "${!FORMATS[@]}"; do
    for rx in "${!MIXED_RATES[@]}"; do
      f=${FORMATS[fx]} r=${MIXED_RATES[rx]}
      ch=$(((fx + rx) % 2 ? 1 : 2))
      # 5.1 only as FLAC: symphonia's AAC decoder takes AAC-LC with at most 2 channels, so Tutti
      # rejects 5.1 AAC (and HE-AAC); Vorbis 5.1 or MP3 are rare.
      [[ $f == flac && $r == 48000 ]] && ch=6
      ((r > 48000)) && [[ $f == mp3 ]] && r=48000 # MP3 stops at 48 kHz
      n=$((n + 1))
      spec_line mixed "$n" "$f" "$r" "$ch" "${MIXED_SECONDS[n % ${#MIXED_SECONDS[@]}]}"
    done
  done
  n=0
  for fx in "${!FORMATS[@]}"; do
    # Two rates per format: one stereo (5.1 for FLAC at 48 kHz), one mono.
    picks=("${RATES[fx % 5]}:2" "${RATES[(fx + 3) % 5]}:1")
    for p in "${picks[@]}"; do
      f=${FORMATS[fx]} r=${p%:*} ch=${p#*:}
      [[ $f == mp3 && $r == 96000 ]] && r=48000
      [[ $f == flac && $r == 48000 ]] && ch=6
      n=$((n + 1))
      spec_line long "$n" "$f" "$r" "$ch" "$LONG_SECONDS"
    done
  done
}

spec_line() { # set n format rate channels seconds
  local set=$1 n=$2 f=$3 r=$4 ch=$5 secs=$6 bits ext
  case $f in
    wav16) bits=16 ext=wav ;;
    wav24) bits=24 ext=wav ;;
    aiff | flac | alac) bits=$( ((r > 48000)) && echo 24 || echo 16) ext=$f ;;
    mp3 | ogg) bits=lossy ext=$f ;;
    aac) bits=lossy ext=m4a ;;
  esac
  [[ $f == alac ]] && ext=m4a
  printf '%s %s%02d-%s-%s-%sch.%s %s %s %s %s %s\n' "$set" "${set:0:1}" "$n" "$f" "$r" "$ch" "$ext" \
    "$f" "$r" "$ch" "$bits" "$secs"
}

# ffmpeg filter graph: per channel, pink noise + three tones (one beeping) with tremolo.
signal_graph() { # rate channels seconds seed
  local r=$1 ch=$2 d=$3 seed=$4 c s base g="" ins="" layout
  for ((c = 0; c < ch; c++)); do
    s=$((seed * 16 + c)) base=$((110 + (seed * 37 + c * 29) % 220))
    g+="anoisesrc=d=$d:c=pink:r=$r:a=0.05:s=${s}[n$c];"
    g+="sine=f=$base:r=$r:d=${d}[a$c];"
    g+="sine=f=$((base * 3 / 2)):r=$r:d=$d:beep_factor=3[b$c];"
    g+="sine=f=$((base * 5 / 2 + c)):r=$r:d=${d}[t$c];"
    g+="[n$c][a$c][b$c][t$c]amix=inputs=4:normalize=0,tremolo=f=$((2 + c)).$((seed % 10)):d=0.4[ch$c];"
    ins+="[ch$c]"
  done
  case $ch in 1) layout=mono ;; 2) layout=stereo ;; 6) layout=5.1 ;; esac
  if ((ch == 1)); then g+="[ch0]anull[out]"; else g+="${ins}join=inputs=$ch:channel_layout=${layout}[out]"; fi
  printf '%s' "$g"
}

encoder_args() { # format bits channels
  case $1 in
    wav16) echo "-c:a pcm_s16le" ;;
    wav24) echo "-c:a pcm_s24le" ;;
    aiff) echo "-c:a pcm_s${2}be" ;;
    flac) echo "-c:a flac -sample_fmt $([[ $2 == 24 ]] && echo s32 || echo s16)" ;;
    mp3) echo "-c:a libmp3lame -q:a 2" ;;
    ogg) echo "-c:a libvorbis -q:a 5" ;;
    aac) echo "-c:a aac -b:a $((64 * $3))k" ;;
    alac) echo "-c:a alac -sample_fmt $([[ $2 == 24 ]] && echo s32p || echo s16p)" ;;
  esac
}

# The corpus directory is named after a hash of its recipe, so changing the recipe makes a new one.
CORPUS="$BENCH_DIR/corpus-$( (corpus_spec; declare -f signal_graph encoder_args) | sha256sum | cut -c1-8)"
export CORPUS

make_corpus() {
  if [[ -f "$CORPUS/.complete" ]]; then
    echo "corpus: reusing $CORPUS"
    return
  fi
  step "generating the corpus in $CORPUS (once)"
  mkdir -p "$CORPUS/mixed" "$CORPUS/long"
  local set name f r ch bits secs seed=0 tmp
  while read -r set name f r ch bits secs; do
    seed=$((seed + 1))
    [[ -f "$CORPUS/$set/$name" ]] && continue
    echo "  $set/$name"
    tmp="$CORPUS/$set/.tmp-$name"
    # shellcheck disable=SC2046 # encoder_args is a list of words
    ffmpeg -nostdin -hide_banner -loglevel error -y -filter_complex "$(signal_graph "$r" "$ch" "$secs" "$seed")" \
      -map "[out]" $(encoder_args "$f" "$bits" "$ch") "$tmp"
    mv "$tmp" "$CORPUS/$set/$name"
  done < <(corpus_spec)
  # Manifest: the spec plus the duration ffprobe reads back, used as "audio seconds" for both sides.
  local manifest="$CORPUS/.manifest.tmp" dur
  : >"$manifest"
  while read -r set name f r ch bits secs; do
    dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$CORPUS/$set/$name")
    echo "$set $name $f $r $ch $bits $dur" >>"$manifest"
  done < <(corpus_spec)
  mv "$manifest" "$CORPUS/manifest"
  date -u +%FT%TZ >"$CORPUS/.complete"
}

# Files of a set, largest first, then by name: the order ingest_bench uses, given to ffmpeg too.
ordered() { # set
  (cd "$CORPUS/$1" && find . -maxdepth 1 -type f ! -name '.*' -printf '%s %f\n' | LC_ALL=C sort -k1,1nr -k2,2 | cut -d' ' -f2)
}

# ffmpeg arguments after the global options, one line per file (xargs -L 1 appends one line).
ffmpeg_jobs() { # set
  local set=$1 name ch bits fmt downmix
  while read -r name; do
    read -r ch bits < <(awk -v s="$set" -v n="$name" '$1 == s && $2 == n { print $5, $6 }' "$CORPUS/manifest")
    downmix="" fmt=s16
    ((ch > 2)) && downmix="-ac 2 "
    [[ $bits == 24 ]] && fmt=s32 # 24-bit FLAC, as Tutti does for lossless sources deeper than 16 bits
    echo "-i $CORPUS/$set/$name ${downmix}${RESAMPLE_ARGS}-ar 44100 -c:a flac -sample_fmt $fmt $OUT/ffmpeg/$set/$name.flac"
  done < <(ordered "$set")
}

# ---------------------------------------------------------------------------------------------
# Measurement (runs as `flock /tmp/tutti-bench.lock scripts/bench-ingest.sh __measure`)
# ---------------------------------------------------------------------------------------------

now() { date +%s.%N; }

# CPU jiffies spent by everything on the machine so far (user, nice, system, irq, softirq, steal).
busy_jiffies() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# A run counts only if other processes used less than BUSY_SHARE of the machine's CPU time during
# it (BUSY_FLOOR CPU seconds are always tolerated: daemons, writeback); otherwise it is repeated,
# up to MAX_ATTEMPTS per scheduled run. This machine is shared, and a build starting next to a
# run would otherwise decide the result.
BUSY_SHARE=0.10
BUSY_FLOOR=0.25
MAX_ATTEMPTS=3

# timed LABEL COMMAND...: runs the command with its output in results/LABEL.log and appends
# "LABEL wall_s cpu_s others_cpu_s ok|busy" to results/times: wall clock time from date,
# user+system CPU time of the command and its children (bash's `times`, which must run in this
# shell, not in a subshell), CPU time that other processes on the machine used meanwhile, and
# whether that stayed under BUSY_SHARE. Returns 1 for a busy run.
timed() {
  local label=$1 t0 t1 b0 b1
  shift
  sync
  times >"$RESULTS/.cpu0"
  b0=$(busy_jiffies)
  t0=$(now)
  "$@" >"$RESULTS/$label.log"
  t1=$(now)
  b1=$(busy_jiffies)
  times >"$RESULTS/.cpu1"
  awk -v label="$label" -v t0="$t0" -v t1="$t1" -v b0="$b0" -v b1="$b1" -v hz="$(getconf CLK_TCK)" \
    -v cores="$(nproc)" -v share="$BUSY_SHARE" -v floor="$BUSY_FLOOR" '
    function secs(field,   p) { split(field, p, "m"); return p[1] * 60 + p[2] }
    FNR == 2 { c[FILENAME == ARGV[1]] = secs($1) + secs($2) }
    END {
      cpu = c[0] - c[1]; others = (b1 - b0) / hz - cpu; if (others < 0) others = 0
      limit = share * cores * (t1 - t0); if (limit < floor) limit = floor
      printf "%s %.3f %.3f %.3f %s\n", label, t1 - t0, cpu, others, (others < limit) ? "ok" : "busy"
    }' "$RESULTS/.cpu0" "$RESULTS/.cpu1" >>"$RESULTS/times"
  [[ $(tail -1 "$RESULTS/times" | cut -d' ' -f5) == ok ]]
}

run_side() { # tool set attempt-number
  local tool=$1 set=$2 n=$3
  rm -rf "${OUT:?}/$tool/$set" && mkdir -p "$OUT/$tool/$set"
  case $tool in
    ffmpeg) timed "$set-$tool-$n" xargs -P "$JOBS" -L 1 ffmpeg -nostdin -hide_banner -loglevel error -y \
      <"$RESULTS/$set.jobs" ;;
    *) timed "$set-$tool-$n" "$BIN_DIR/ingest_bench-$tool" --jobs "$JOBS" --out "$OUT/$tool" "$CORPUS/$set" ;;
  esac
}

measure() {
  : >"$RESULTS/times"
  cut -d' ' -f1-3 /proc/loadavg >"$RESULTS/loadavg"
  local set tool order attempt i
  for set in "${SETS[@]}"; do
    # A B C C B A: no side always runs first or last.
    order=("${TOOLS[@]}")
    for ((i = ${#TOOLS[@]} - 1; i >= 0; i--)); do order+=("${TOOLS[i]}"); done
    echo "  $set: ${order[*]}"
    declare -A n=()
    for tool in "${order[@]}"; do
      for ((attempt = 1; attempt <= MAX_ATTEMPTS; attempt++)); do
        n[$tool]=$((${n[$tool]:-0} + 1))
        if run_side "$tool" "$set" "${n[$tool]}"; then break; fi
        echo "    $set-$tool-${n[$tool]}: other processes were busy during the run; repeating it" >&2
      done
    done
    unset n
  done
  if [[ "${TUTTI_BENCH_PROFILE:-1}" != 0 ]]; then
    echo "  profile (one thread): ${SETS[*]}"
    rm -rf "$OUT/profile"
    "$BIN_DIR/ingest_bench-tutti" --jobs 1 --profile --out "$OUT/profile" "${SETS[@]/#/$CORPUS/}" \
      >"$RESULTS/profile.log"
    rm -rf "$OUT/profile"
  fi
}

if [[ "${1:-}" == __measure ]]; then
  measure
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------

command -v ffmpeg >/dev/null || ensure_apt ffmpeg
ensure_rust

if ffmpeg -hide_banner -h filter=aresample 2>/dev/null | grep -qw soxr; then
  RESAMPLE_ARGS="-af aresample=resampler=soxr "
  RESAMPLER="soxr (ffmpeg aresample, default precision 20 bits)"
else
  RESAMPLE_ARGS=""
  RESAMPLER="swr (ffmpeg's default resampler; this ffmpeg has no soxr)"
fi

make_corpus

# Two release builds of the example, each copied to $BIN_DIR.
# * LTO off, 16 codegen units: the flags used here for quick release builds (a few minutes on
#   2 cores, opt-level 3, artifacts shared with other builds made with the same flags).
#   `lto = "off"` also disables the thin-local LTO that Cargo otherwise applies across a crate's
#   codegen units.
# * The workspace's release profile (thin LTO), as the server is built for production.
BUILD_LTO_OFF="CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 cargo build --release -p audio --features ingest --example ingest_bench"
BUILD_RELEASE="cargo build --release -p audio --features ingest --example ingest_bench"
mkdir -p "$BIN_DIR"
step "building ingest_bench: LTO off, 16 codegen units"
CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  cargo build --release -p audio --features ingest --example ingest_bench
cp "$CARGO_TARGET_DIR/release/examples/ingest_bench" "$BIN_DIR/ingest_bench-tutti_lto_off"
step "building ingest_bench: workspace release profile"
cargo build --release -p audio --features ingest --example ingest_bench
cp "$CARGO_TARGET_DIR/release/examples/ingest_bench" "$BIN_DIR/ingest_bench-tutti"

mkdir -p "$RESULTS" "$OUT"
for set in "${SETS[@]}"; do ffmpeg_jobs "$set" >"$RESULTS/$set.jobs"; done

step "measuring on $JOBS jobs (under $LOCK)"
if ! flock -n "$LOCK" true; then echo "another benchmark holds $LOCK; waiting for it"; fi
load_before=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load_before" -v n="$(nproc)" 'BEGIN { exit !(l > 0.25 * n) }'; then
  echo "warning: load average is $load_before before measuring; other work on this machine skews the figures" >&2
fi
flock "$LOCK" "$BASH" "${BASH_SOURCE[0]}" __measure

# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------

step "checking the outputs"
# Every side must have produced every file at 44.1 kHz with the same channels and bit depth as
# ffmpeg, and lengths within 50 ms (lossy decoders may trim encoder delay and padding
# differently). The two Tutti builds must have written the same bytes.
probe() {
  ffprobe -v error -select_streams a:0 -show_entries stream=sample_rate,channels,bits_per_raw_sample:format=duration \
    -of csv=p=0 "$1" | paste -sd, -
}
mismatches=0
for set in "${SETS[@]}"; do
  while read -r name; do
    f=$(probe "$OUT/ffmpeg/$set/$name.flac")
    for tool in tutti tutti_lto_off; do
      t=$(probe "$OUT/$tool/$set/$name.flac")
      if ! awk -v t="$t" -v f="$f" 'BEGIN {
             split(t, a, ","); split(f, b, ",");
             d = a[4] - b[4]; if (d < 0) d = -d;
             exit !(a[1] == 44100 && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && d <= 0.05) }'; then
        echo "  $set/$name: ${TOOL_NAME[$tool]} $t, ffmpeg $f (rate,channels,bits,seconds)" >&2
        mismatches=$((mismatches + 1))
      fi
    done
    if ! cmp -s "$OUT/tutti/$set/$name.flac" "$OUT/tutti_lto_off/$set/$name.flac"; then
      echo "  $set/$name: the two Tutti builds wrote different files" >&2
      mismatches=$((mismatches + 1))
    fi
  done < <(ordered "$set")
done
((mismatches == 0)) || { echo "$mismatches mismatches; the comparison is not like for like" >&2; exit 1; }
echo "  every output: 44.1 kHz FLAC, same channels and bit depth on every side, lengths within 50 ms;"
echo "  both Tutti builds wrote identical files"

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

tutti_audio() { awk '/^total/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "audio_s") print kv[2] } }' "$RESULTS/$1-tutti-1.log"; }

# rows: set tool files audio_s wall_s cpu_s out_mb, for the faster run of each side.
ROWS="$RESULTS/rows"
: >"$ROWS"
for set in "${SETS[@]}"; do
  files=$(awk -v s="$set" '$1 == s' "$CORPUS/manifest" | wc -l)
  audio=$(awk -v s="$set" '$1 == s { t += $7 } END { printf "%.1f", t }' "$CORPUS/manifest")
  decoded=$(tutti_audio "$set")
  if ! awk -v a="$audio" -v d="$decoded" 'BEGIN { e = (a - d) / a; if (e < 0) e = -e; exit !(e < 0.01) }'; then
    echo "Tutti decoded $decoded s of the $audio s ffprobe reports for $set" >&2
    exit 1
  fi
  for tool in "${TOOLS[@]}"; do
    mb=$(du -cb "$OUT/$tool/$set/"*.flac | awk 'END { printf "%.1f", $1 / 1e6 }')
    # The fastest undisturbed run; if every run was disturbed, the fastest one, marked with "*".
    best=$(awk -v k="$set-$tool" '{ l = $1; sub(/-[0-9]+$/, "", l) } l != k { next }
      $5 == "ok" && (w == "" || $2 < w) { w = $2; c = $3 } (aw == "" || $2 < aw) { aw = $2; ac = $3 }
      END { if (w != "") print w, c; else print aw "*", ac }' "$RESULTS/times")
    echo "$set $tool $files $audio $best $mb" >>"$ROWS"
  done
done

# TABLE: set|tool|files|audio s|wall s|CPU s|files/s|x realtime|FLAC MB|throughput / ffmpeg's
TABLE=$(awk -v names="$(for t in "${TOOLS[@]}"; do printf '%s=%s;' "$t" "${TOOL_NAME[$t]}"; done)" '
  BEGIN { n = split(names, kv, ";"); for (i = 1; i <= n; i++) if (split(kv[i], p, "=") == 2) name[p[1]] = p[2] }
  { tp[$1, $2] = $3 / $5; line[NR] = $0 }
  END {
    for (i = 1; i <= NR; i++) {
      split(line[i], f, " ")
      ratio = (f[2] != "ffmpeg") ? sprintf("%.2f", tp[f[1], f[2]] / tp[f[1], "ffmpeg"]) : ""
      wall = f[5] + 0; star = (f[5] ~ /[*]$/) ? "*" : ""
      printf "%s|%s|%d|%.1f|%.3f%s|%.2f|%.2f|%.1f|%s|%s\n", f[1], name[f[2]], f[3], f[4],
        wall, star, f[6], f[3] / wall, f[4] / wall, f[7], ratio
    }
  }' "$ROWS")

printf '\n%-6s %-21s %6s %9s %9s %9s %8s %11s %8s  %s\n' set tool files "audio s" "wall s" "CPU s" "files/s" \
  "x realtime" "FLAC MB" "throughput / ffmpeg's"
while IFS='|' read -r set tool files audio wall cpu fps rt mb ratio; do
  printf '%-6s %-21s %6s %9s %9s %9s %8s %11s %8s  %s\n' "$set" "$tool" "$files" "$audio" "$wall" "$cpu" "$fps" "$rt" \
    "$mb" "$ratio"
done <<<"$TABLE"

# --- bench/INGEST.md ---
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
ffv=$(ffmpeg -version | head -1 | awk '{ print $3 }')
rustv=$(rustc --version | awk '{ print $2 }')
load=$(cat "$RESULTS/loadavg")
example_job=$(head -1 "$RESULTS/long.jobs" | sed "s|$BENCH_DIR|\$BENCH|g")
# One row per set, format and bit depth, listing "rate Hz × channels" of its files.
corpus_rows=$(sort -k1,1r -k3,3 -k4,4n -k5,5n "$CORPUS/manifest" | awk '
  { k = $1 "|" $3 "|" $6; if (!(k in n)) order[++m] = k; n[k]++; l[k] = l[k] (l[k] ? ", " : "") $4 " × " $5 }
  END { for (i = 1; i <= m; i++) { k = order[i]; split(k, p, "|")
          printf "| %s | %s | %s | %d | %s |\n", p[1], p[2], (p[3] == "lossy" ? "lossy" : p[3] "-bit"), n[k], l[k] } }')

{
  echo "# Ingest throughput: Tutti vs ffmpeg"
  echo
  echo "Generated by \`scripts/bench-ingest.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); rerun it to refresh the figures."
  echo
  echo "| Set | Tool | Files | Audio s | Wall s | CPU s | Files/s | × realtime | FLAC out MB | Throughput / ffmpeg's |"
  echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"
  while IFS='|' read -r set tool files audio wall cpu fps rt mb ratio; do
    echo "| $set | $tool | $files | $audio | $wall | $cpu | $fps | $rt | $mb | $ratio |"
  done <<<"$TABLE"
  echo
  echo "* *Tutti* is the example built with the workspace's release profile (thin LTO), as the server is"
  echo "  built for production; *Tutti, LTO-off build* is the same code built with"
  echo "  \`CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16\`, the flags used here for quick"
  echo "  release builds (\`lto = \"off\"\` also drops the thin-local LTO Cargo applies across a crate's"
  echo "  codegen units by default). Both builds write identical files."
  echo "* *Wall s* is the fastest undisturbed run of two scheduled runs (every run is listed below), *CPU s*"
  echo "  the user + system time of that run's processes. *Throughput / ffmpeg's* is the side's files/s over ffmpeg's: above 1 the"
  echo "  side is faster than ffmpeg, below 1 slower."
  echo "* The *mixed* set is the corpus the goal names (at least 50 files of mixed formats and rates, several"
  echo "  minutes in all); per-file start-up (for ffmpeg, one process per file) weighs in it. The *long* set is"
  echo "  dominated by signal processing, so the two ratios answer different questions."
  echo "* *Audio s* is the source duration per ffprobe, the same for every row; *× realtime* = audio s / wall s."
  echo "  *FLAC out MB*: $(awk '$2 == "tutti" { t[$1] = $7 } $2 == "ffmpeg" { f[$1] = $7 }
    END { printf "Tutti'"'"'s files are %.1f %% (mixed) and %.1f %% (long) of the size of ffmpeg'"'"'s", 100 * t["mixed"] / f["mixed"],
      100 * t["long"] / f["long"] }' "$ROWS") (same bytes from both Tutti builds)."
  echo
  echo "Every run, in the order it ran. *Others' CPU s* is the CPU time other processes on the machine used"
  echo "during the run (from /proc/stat). A run in which they used $(awk -v s="$BUSY_SHARE" 'BEGIN { print s * 100 }') % or more of the machine's CPU"
  echo "time (and more than $BUSY_FLOOR CPU s) does not count and was repeated, at most $MAX_ATTEMPTS attempts per"
  echo "scheduled run; a wall time marked \* above means every run of that side was disturbed."
  echo
  echo "| Run | Wall s | CPU s | Others' CPU s | Counts |"
  echo "|---|--:|--:|--:|---|"
  awk '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, ($5 == "ok") ? "yes" : "no (disturbed)" }' "$RESULTS/times"
  echo
  echo "## What is compared"
  echo
  echo "Same input files, same output format, every core busy on every side:"
  echo
  echo "* **Tutti**: \`audio::ingest::ingest\` with default options, through the \`ingest_bench\` example:"
  echo "  $JOBS worker threads over a shared queue (largest file first), each file decoded (symphonia,"
  echo "  FLAC MD5 verified), folded down to stereo if it has more than two channels, resampled to"
  echo "  44.1 kHz (rubato FFT resampler) unless already at 44.1 kHz, quantised without dither to 16-bit"
  echo "  (24-bit for lossless sources deeper than 16 bits) and encoded to FLAC by Tutti's own encoder"
  echo "  (\`audio/src/ingest/flac.rs\`: the choices of ffmpeg's and the reference encoder's level 5 —"
  echo "  4096-frame blocks, estimated stereo mode, fixed predictors or LPC up to order 8, Rice partition"
  echo "  orders 0–8 — with STREAMINFO and MD5), written to a file as the server does. It runs on one core"
  echo "  per file (no threads inside a file), like each ffmpeg process. **Beyond ffmpeg's work**, Tutti"
  echo "  also builds the waveform peaks (256 samples per pixel, written as \`.peaks.dat\`), measures EBU R128"
  echo "  integrated loudness (BS.1770 K-weighting and gating) and reads the tags; all of that is inside"
  echo "  its timings."
  echo "* **ffmpeg**: one process per file, $JOBS at a time (\`xargs -P $JOBS\`), files in the same order: decode,"
  echo "  \`-ac 2\` only for files with more than two channels, resample to 44.1 kHz with $RESAMPLER,"
  echo "  FLAC at ffmpeg's default compression level 5 (with MD5), 16-bit or 24-bit exactly where Tutti"
  echo "  chooses it. Sources already at 44.1 kHz pass through unresampled, as in Tutti."
  echo "* Each run is timed from outside with \`date +%s.%N\` around the whole command (process start-up"
  echo "  included). Per set the sides ran in the order Tutti, Tutti LTO-off, ffmpeg, ffmpeg, Tutti LTO-off,"
  echo "  Tutti; the faster undisturbed run of each side counts. Inputs are in the page cache for every side; output"
  echo "  goes to the same disk, with \`sync\` before each run. The measuring part holds"
  echo "  \`flock /tmp/tutti-bench.lock\`."
  echo "* Afterwards every output was probed: 44.1 kHz FLAC with the same channel count and bit depth as"
  echo "  ffmpeg's and lengths within 50 ms; the two Tutti builds wrote byte-identical files."
  echo
  echo "## Machine"
  echo
  echo "* CPU: $cpu_model, \`nproc\` = $(nproc); memory: $mem; kernel $(uname -r)"
  echo "* Load average (1, 5, 15 min) when measuring started: $load"
  echo "* ffmpeg $ffv; resampler: $RESAMPLER"
  echo "* rustc $rustv; opt-level 3 in both builds"
  echo
  echo "## Corpus"
  echo
  echo "Synthetic signals made with ffmpeg (per channel: pink noise and three tones, one of them beeping,"
  echo "with tremolo; every channel different), generated once into \`\$TUTTI_BENCH_DIR\` (default"
  echo "\`~/.cache/tutti/bench-corpus\`). *mixed*: $(awk '$1 == "mixed"' "$CORPUS/manifest" | wc -l) files of ${MIXED_SECONDS[*]} s in turn ($(awk '$1 == "mixed" { s += $7 } END { printf "%.0f", s }' "$CORPUS/manifest") s in all); *long*: $(awk '$1 == "long"' "$CORPUS/manifest" | wc -l) files of $LONG_SECONDS s."
  echo "5.1 appears only as FLAC: symphonia's AAC decoder accepts AAC-LC with at most two channels, so"
  echo "Tutti rejects 5.1 (and HE-AAC) uploads."
  echo
  echo "| Set | Format | Bits | Files | Rate (Hz) × channels |"
  echo "|---|---|---|--:|---|"
  echo "$corpus_rows"
  echo
  echo "## Commands"
  echo
  echo "Builds (each binary is copied aside, as both land in \`\$CARGO_TARGET_DIR/release/examples/\`):"
  echo
  echo '```sh'
  echo "$BUILD_RELEASE   # Tutti"
  echo "$BUILD_LTO_OFF   # Tutti, LTO-off build"
  echo '```'
  echo
  echo "Tutti, per set (\`\$BENCH\` = the bench directory, \`\$SET\` = mixed or long):"
  echo
  echo '```sh'
  echo "ingest_bench --jobs $JOBS --out \$BENCH/out/tutti \$BENCH/${CORPUS#"$BENCH_DIR"/}/\$SET"
  echo '```'
  echo
  echo "ffmpeg, per set: \`\$SET.jobs\` holds one line of arguments per file, largest file first;"
  echo "\`xargs -L 1\` appends one line to the command:"
  echo
  echo '```sh'
  echo "xargs -P $JOBS -L 1 ffmpeg -nostdin -hide_banner -loglevel error -y < \$SET.jobs"
  echo "# a line of long.jobs:"
  echo "$example_job"
  echo '```'
  if [[ -s "$RESULTS/profile.log" ]]; then
    echo
    echo "## Where Tutti's time goes"
    echo
    echo "\`ingest_bench --jobs 1 --profile\` (release-profile build) on both sets: each file is ingested once"
    echo "for real (*ingest s*), then run again through a staged copy of the pipeline (the same building"
    echo "blocks and settings) with a timer around each stage. Thread-seconds on one core; *staged s* is the sum of the"
    echo "stage columns and should be close to *ingest s*."
    echo
    echo "| Group | Files | Audio s | Ingest s | Staged s | Open | Decode | Fold-down | Resample | Quantise | FLAC encode | MD5 | Write | Peaks | Loudness |"
    echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    awk '/^profile (codec|dir)=/ {
           delete v
           for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
           if ($2 ~ /^dir=/) { set = v["dir"]; gsub(/"/, "", set); sub(/.*\//, "", set); g = "**" set ", all**" }
           else g = set ": " v["codec"]
           printf "| %s | %d | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n",
             g, v["files"], v["audio_s"], v["ingest_s"], v["staged_s"], v["open_s"], v["decode_s"], v["mix_s"],
             v["resample_s"], v["quantise_s"], v["flac_s"], v["md5_s"], v["write_s"], v["peaks_s"], v["loudness_s"] }' \
      "$RESULTS/profile.log"
    echo
    echo "Shares of the staged time per set:"
    echo
    awk '/^profile dir=/ { d = $2; gsub(/"|dir=/, "", d); sub(/.*\//, "", d) }
         /^profile share/ { $1 = ""; $2 = ""; sub(/^ +/, ""); print "* " d ": " $0 }' "$RESULTS/profile.log"
  fi
  echo
  echo "## Reproduce"
  echo
  echo '```sh'
  echo "scripts/bench-ingest.sh   # TUTTI_BENCH_DIR, TUTTI_BENCH_JOBS, TUTTI_BENCH_PROFILE=0 to adjust"
  echo '```'
} >"$REPORT"
echo
echo "wrote $REPORT (raw logs in $RESULTS)"
