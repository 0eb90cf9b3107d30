#!/usr/bin/env bash
# Run every test: formatting and clippy, unit tests, integration tests against SQLite and
# PostgreSQL (a throwaway pg_virtualenv cluster unless DATABASE_URL names a postgres:// server),
# and end2end tests in headless Chromium. Installs what is missing first.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
ensure_rust
ensure_cargo_tools
ensure_apt chromium chromium-driver postgresql postgresql-common ffmpeg sox pulseaudio pulseaudio-utils python3 python3-venv
ensure_npm
command -v cargo-nextest >/dev/null || (cd "$HOME" && cargo +"$TOOLCHAIN" install cargo-nextest --locked)

step "format"
cargo fmt --all -- --check

step "clippy (server side, browser side)"
# Packages are checked together so features unify into one build (app gets ssr through server).
cargo clippy -p server -p app -p migrations -p mock-oauth -p consensus -p audio -p dataset --all-targets -- -D warnings
cargo clippy -p app -p frontend --features app/hydrate --target wasm32-unknown-unknown -- -D warnings

step "the pinned Python environment that reads what Tutti produces (cached outside the checkout)"
"$ROOT/scripts/python-env.sh"

step "unit and integration tests on SQLite"
cargo nextest run -p server -p app -p mock-oauth -p consensus -p audio -p dataset

step "integration tests on PostgreSQL"
if [[ "${DATABASE_URL:-}" == postgres* ]]; then
  TUTTI_TEST_POSTGRES="$DATABASE_URL" cargo nextest run -p server --test it
else
  # pg_virtualenv makes a throwaway cluster and exports PGHOST/PGPORT/PGUSER/PGPASSWORD.
  pg_virtualenv bash -c 'TUTTI_TEST_POSTGRES="postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$PGDATABASE" \
    cargo nextest run -p server --test it'
fi

step "end2end in headless Chromium"
start_loopback
# The site goes where the server under test reads it (by default cargo-leptos would write it under
# the checkout's own target/ directory).
LEPTOS_SITE_ROOT="$CARGO_TARGET_DIR/site" cargo leptos build
cargo build -p mock-oauth --bin mock-oauth
(cd end2end && TUTTI_SERVER_BIN="$CARGO_TARGET_DIR/debug/server" \
  MOCK_OAUTH_BIN="$CARGO_TARGET_DIR/debug/mock-oauth" \
  LEPTOS_SITE_ROOT="$CARGO_TARGET_DIR/site" npx playwright test)

step "page weight: first load of /annotate within budget (release build of the front end)"
"$ROOT/scripts/page-weight.sh" --budget

step "all tests passed"
