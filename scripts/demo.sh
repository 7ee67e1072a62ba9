#!/usr/bin/env bash
# The README's first command: install the toolkit into .venv, build the dataset from
# seeds/, start the embedded Label Studio and push the release to it.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet -e .
.venv/bin/toolkit demo "$@"
