#!/usr/bin/env bash
# The README's second command: install the toolkit with its development dependencies into
# .venv, then lint and run the whole test suite (a real Label Studio server included).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet -e '.[dev]'
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/pytest "$@"
