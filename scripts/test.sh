#!/usr/bin/env bash
# The README's second command: install the toolkit with its development dependencies into
# .venv, then lint and run the whole test suite (a real Label Studio server included).
set -euo pipefail
cd "$(dirname "$0")/.."
# The browser test (tests/test_browser.py) drives Debian's chromium through chromium-driver.
# The Slurm tests (tests/test_distributed.py) start a single-node Slurm from Debian's
# packages (slurmctld, slurmd, MUNGE) on 127.0.0.1.
missing=()
[ -x /usr/bin/chromedriver ] || missing+=(chromium chromium-driver)
[ -x /usr/sbin/slurmctld ] || missing+=(slurmctld slurmd slurm-client munge)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi
python3 -m venv .venv
.venv/bin/pip install --quiet -e '.[dev]'
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/pytest "$@"
