#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what it needs (tools/setup.sh),
# and the real servers the tests start (tools/system-packages.sh),
# then format check, lint, types (src, then tests/ per directory), import layers, and pytest
# against Helm 4 and Helm 3.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/system-packages.sh
tools/setup.sh --helm3
export PATH="$PWD/.tools/bin:$PATH"
.venv/bin/ruff format --check src tests bench examples tools
.venv/bin/ruff check src tests bench examples tools
.venv/bin/mypy
tools/typecheck-tests.sh
.venv/bin/lint-imports
.venv/bin/pytest "$@"
