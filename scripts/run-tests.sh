#!/usr/bin/env bash
# The test run `make test` and CI use: lint, then the whole default suite.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
