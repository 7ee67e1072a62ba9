#!/usr/bin/env bash
# The README's second command: install the toolkit with its development dependencies into
# .venv, then lint and run the whole test suite (a real Label Studio server included).
set -euo pipefail
cd "$(dirname "$0")/.."
# The browser test (tests/test_browser.py) drives Debian's chromium through chromium-driver.
if [ ! -x /usr/bin/chromedriver ]; then
    apt-get update && apt-get install -y chromium chromium-driver
fi
python3 -m venv .venv
.venv/bin/pip install --quiet -e '.[dev]'
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/pytest "$@"
