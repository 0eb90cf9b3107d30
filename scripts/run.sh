#!/usr/bin/env bash
# Build and serve Tutti at http://127.0.0.1:3000 with the embedded defaults: a SQLite database and
# an object store under ./data/, demo sign-in on. Configuration: see README.md.
# Pass --release for an optimised build.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
ensure_rust
ensure_cargo_tools
if [[ " $* " == *" --release "* ]] && ! command -v wasm-opt >/dev/null; then
  # Release builds run wasm-opt; Debian's binaryen is too old for current rustc output.
  step "installing wasm-opt (npm binaryen@132)"
  $SUDO npm install -g binaryen@132.0.0 --no-audit --no-fund
fi
mkdir -p data
step "building and serving Tutti at ${TUTTI_PUBLIC_URL:-http://127.0.0.1:3000}"
# A release build precompresses the bundle (brotli at its highest level, gzip) for the server to
# send as is.
if [[ " $* " == *" --release "* ]]; then set -- "$@" --precompress; fi
exec cargo leptos serve "$@"
