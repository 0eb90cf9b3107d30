# Shared by scripts/run.sh and scripts/test.sh: pinned tool versions and idempotent installers.
# Every function checks first and installs only what is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION=0.3.10   # 0.3.11 needs rustc 1.96
WASM_BINDGEN_VERSION=0.2.130  # must equal the wasm-bindgen pinned in Cargo.toml
TOOLCHAIN=1.95.0

# Builds live outside the checkout so a fresh clone reuses them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tutti/target}"
# cargo-leptos compiles with this set; setting it for plain cargo too keeps one shared build.
export LEPTOS_OUTPUT_NAME=tutti
export PATH="$HOME/.cargo/bin:$PATH"
# Tool installs: no fat LTO, many codegen units (the tools' own release profiles take 3x longer).
TOOL_PROFILE=(CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=2)

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

ensure_rust() {
  command -v rustup >/dev/null || { echo "rustup is required: https://rustup.rs" >&2; exit 1; }
  rustup toolchain list | grep -q "^$TOOLCHAIN" || rustup toolchain install "$TOOLCHAIN" --profile minimal -c clippy -c rustfmt
  rustup target list --installed --toolchain "$TOOLCHAIN" | grep -qx wasm32-unknown-unknown \
    || rustup target add wasm32-unknown-unknown --toolchain "$TOOLCHAIN"
}

ensure_cargo_tools() {
  if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
    step "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 12 minutes on 2 cores, once)"
    (cd "$HOME" && env "${TOOL_PROFILE[@]}" cargo +"$TOOLCHAIN" install cargo-leptos \
      --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads)
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes, once)"
    # Not --locked: its lockfile wants a webpki-roots the registry no longer has.
    (cd "$HOME" && env "${TOOL_PROFILE[@]}" cargo +"$TOOLCHAIN" install wasm-bindgen-cli \
      --version "$WASM_BINDGEN_VERSION" --force)
  fi
}

# ensure_apt PACKAGE... installs the Debian packages that are not installed yet.
ensure_apt() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  step "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}" \
    || { $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; }
}

ensure_npm() {
  command -v npm >/dev/null || ensure_apt nodejs npm
  if [ ! -f "$ROOT/end2end/node_modules/.package-lock.json" ] \
    || [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; then
    step "installing end2end npm packages"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund)
  fi
}

# start_loopback starts a private PulseAudio server whose default microphone hears its default
# speakers (a null sink, and a remap of its monitor as an ordinary source, because Chromium does not
# offer monitor sources as inputs), and exports TUTTI_LOOPBACK_PULSE with its address for the
# browser tests. The server stops when the calling shell exits.
start_loopback() {
  local dir
  dir="$(mktemp -d /tmp/tutti-pulse.XXXXXX)"
  XDG_RUNTIME_DIR="$dir" pulseaudio --daemonize=yes --exit-idle-time=-1 -n --log-target=file:"$dir/log" \
    --load=module-native-protocol-unix \
    --load="module-null-sink sink_name=tutti_loop" \
    --load="module-remap-source master=tutti_loop.monitor source_name=tutti_loopmic source_properties=device.description=Loopback" \
    2>/dev/null
  export TUTTI_LOOPBACK_PULSE="unix:$dir/pulse/native"
  PULSE_SERVER="$TUTTI_LOOPBACK_PULSE" pactl set-default-sink tutti_loop
  PULSE_SERVER="$TUTTI_LOOPBACK_PULSE" pactl set-default-source tutti_loopmic
  # shellcheck disable=SC2064 # the directory is fixed now
  trap "XDG_RUNTIME_DIR='$dir' pulseaudio --kill 2>/dev/null; rm -rf '$dir'" EXIT
}
