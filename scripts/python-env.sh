#!/usr/bin/env bash
# Creates (once) the pinned Python virtual environment of scripts/python-requirements.txt and
# prints its path. It lives outside the checkout, keyed by a hash of the requirements, so a
# changed pin gets a fresh environment and an unchanged one is reused across clones.
#   "$(scripts/python-env.sh)/bin/python" scripts/check_release.py release.tar
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQ="$ROOT/scripts/python-requirements.txt"
HASH="$(sha256sum "$REQ" | cut -c1-12)"
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/tutti/venv-$HASH"

if [ ! -f "$VENV/.complete" ]; then
  # Progress goes to stderr: stdout carries only the path.
  echo "creating $VENV" >&2
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ" >&2
  # Written last, so an interrupted install is redone rather than reused.
  touch "$VENV/.complete"
fi
echo "$VENV"
