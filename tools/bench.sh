#!/usr/bin/env bash
# Run every benchmark in bench/ and print the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh >/dev/null
export PATH="$PWD/.tools/bin:$PATH"
for script in bench/startup.py bench/plan.py bench/redeploy.py bench/base_image.py bench/gc.py; do
  [ -f "$script" ] && (cd bench && ../.venv/bin/python "$(basename "$script")")
done
