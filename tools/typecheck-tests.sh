#!/usr/bin/env bash
# mypy --strict over tests/, resolving imports the way pytest does at run time.
#
# One mypy run over all of tests/ is impossible: pytest puts every test directory on sys.path
# (rootdir/conftest insertion), so test modules import their neighbours by bare name (`cliutil`,
# `realapp`, `double`, `githost`, `realkube`), and eight directories each hold a `conftest`
# module of the same name. So:
#   1. one run over tests/*.py, the packages (tests/servers, tests/fakekube) and every
#      directory without a conftest.py, with all test directories on MYPYPATH as under pytest;
#   2. one run per directory with a conftest.py, that directory first on MYPYPATH so its
#      `conftest` (imported by name, e.g. from tests/e2e) is the one mypy sees.
# All runs share one mypy cache (.mypy_cache/tests): about 25 s on a fresh checkout, 3 s after.
# Exits non-zero if any run reports an error.
set -euo pipefail
cd "$(dirname "$0")/.."
# Its own cache: the options differ from the src run's, which would otherwise invalidate it each time.
MYPY=(.venv/bin/mypy --strict --explicit-package-bases --follow-imports=silent --no-error-summary
    --cache-dir .mypy_cache/tests)

packages=() plain=() with_conftest=()
for dir in tests/*/; do
    dir=${dir%/}
    [ "$(basename "$dir")" = __pycache__ ] && continue
    if [ -f "$dir/__init__.py" ]; then
        packages+=("$dir") # checked as files: tests/ is their base, so they are `servers.*` etc.
    elif [ -f "$dir/conftest.py" ]; then
        with_conftest+=("$dir")
    else
        plain+=("$dir")
    fi
done
all_dirs=("${plain[@]}" "${with_conftest[@]}")
search_path() { # src, tests/, then the given directories: those named first win
    local IFS=:
    echo "src:tests:$*"
}

status=0
MYPYPATH=$(search_path "${all_dirs[@]}") "${MYPY[@]}" tests/*.py "${plain[@]}" "${packages[@]}" || status=1
for dir in "${with_conftest[@]}"; do
    others=()
    for other in "${all_dirs[@]}"; do [ "$other" = "$dir" ] || others+=("$other"); done
    MYPYPATH=$(search_path "$dir" "${others[@]}") "${MYPY[@]}" "$dir" || status=1
done
if [ "$status" -ne 0 ]; then
    echo "tools/typecheck-tests.sh: type errors in tests/ (above)" >&2
else
    echo "tests/: mypy --strict clean"
fi
exit "$status"
