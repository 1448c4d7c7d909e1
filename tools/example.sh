#!/usr/bin/env bash
# DeployTag's main job on the bundled example, on a fresh machine.
#
#   tools/example.sh                      plan, then deploy -> list -> redeploy -> destroy
#                                         against the embedded sandbox API server
#   tools/example.sh --kubeconfig PATH    the same against a real cluster (kind, k3d, EKS ...)
#   tools/example.sh --branch NAME        another branch than feature/login (a shared cluster)
#
# The sandbox is tests/fakekube, the small Kubernetes API server the test suite uses: the real
# helm talks to it, it runs no containers. Nothing outside the repository is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
KUBECONFIG_ARG=""
BRANCH=feature/login
while [ $# -gt 0 ]; do
  case "$1" in
    --kubeconfig) KUBECONFIG_ARG=$2; shift 2 ;;
    --branch) BRANCH=$2; shift 2 ;;
    *) echo "example.sh: unknown option $1 (use --kubeconfig PATH, --branch NAME)" >&2; exit 2 ;;
  esac
done

tools/system-packages.sh   # buildah, registry, PostgreSQL for the sandbox; skipped parts say so when missing
tools/setup.sh
# The venv first: the example's own commands (migrate.py when it runs here, its tests) run
# `python`, which must be the one with psycopg, as in the app's image.
export PATH="$ROOT/.venv/bin:$ROOT/.tools/bin:$PATH"
DT="$ROOT/.venv/bin/deploytag"
EXAMPLE="$ROOT/examples/guestbook"
# git cannot store 0600; DeployTag warns about a group-readable secrets file.
chmod 600 "$EXAMPLE/secrets.local.yaml"
COMMIT=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo 0000000000000000000000000000000000000000)

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

WORK=$(mktemp -d)
SANDBOX_PID=""
REGISTRY_PID=""
DNS_PID=""
PG_PID=""
cleanup() {
  for pid in $SANDBOX_PID $REGISTRY_PID $DNS_PID $PG_PID; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# The example has a database per branch. Unless an admin URL is given, a throwaway PostgreSQL
# (tests/servers/postgres.py) runs on loopback; the URL reaches DeployTag by environment only.
if [ -z "${DEPLOYTAG_DATABASE_ADMIN_URL:-}" ]; then
  if "$ROOT/.venv/bin/python" -c 'import sys; from tests.servers.postgres import bin_dir; sys.exit(bin_dir() is None)'; then
    "$ROOT/.venv/bin/python" -m tests.servers.postgres --dir "$WORK/pg" --info "$WORK/pg.json" >"$WORK/pg.log" 2>&1 &
    PG_PID=$!
    for _ in $(seq 300); do [ -s "$WORK/pg.json" ] && break; sleep 0.1; done
    DEPLOYTAG_DATABASE_ADMIN_URL=$("$ROOT/.venv/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["admin_url"])' "$WORK/pg.json")
    export DEPLOYTAG_DATABASE_ADMIN_URL
    echo "throwaway PostgreSQL on 127.0.0.1:$("$ROOT/.venv/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$WORK/pg.json")"
    # A real cluster's pods cannot reach this loopback server: migrate from here instead.
    if [ -n "$KUBECONFIG_ARG" ]; then export DEPLOYTAG_DATABASE__MIGRATE_MODE=local; fi
  else
    echo "PostgreSQL is not installed (apt-get install postgresql-15): the example runs without its database"
    export DEPLOYTAG_DATABASE__ENVIRONMENTS='[]'
  fi
fi

step deploytag plan --branch $BRANCH
"$DT" --repo "$EXAMPLE" plan --branch $BRANCH --commit "$COMMIT"

if [ -n "$KUBECONFIG_ARG" ]; then
  KUBECONFIG_FILE=$KUBECONFIG_ARG
else
  KUBECONFIG_FILE=$WORK/kubeconfig
  PORT=$("$ROOT/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # --run-jobs-in: the migration Job runs the example's migrate.py for real against the database.
  "$ROOT/.venv/bin/python" -m tests.fakekube --port "$PORT" --kubeconfig "$KUBECONFIG_FILE" \
    --run-jobs-in "$EXAMPLE" >"$WORK/sandbox.log" 2>&1 &
  SANDBOX_PID=$!
  for _ in $(seq 50); do [ -s "$KUBECONFIG_FILE" ] && break; sleep 0.1; done
  echo "sandbox API server on 127.0.0.1:$PORT (kubeconfig $KUBECONFIG_FILE)"
fi

# Images. In the sandbox: a local registry (docker-registry) on loopback and buildah with storage
# under $WORK. python:3.12-slim cannot be pulled offline, so the base is built from
# sandbox/Dockerfile.base on a busybox-only image; the app image is the example's real Dockerfile.
# With --kubeconfig, images are built when DEPLOYTAG_IMAGES__APP__REPOSITORY names your registry.
BUILD_FLAG=""
if [ -z "$KUBECONFIG_ARG" ] && command -v docker-registry >/dev/null && command -v buildah >/dev/null \
   && [ -x /bin/busybox ]; then
  "$ROOT/.venv/bin/python" -m tests.servers.registry --dir "$WORK/registry" >"$WORK/registry.log" 2>&1 &
  REGISTRY_PID=$!
  for _ in $(seq 100); do [ -s "$WORK/registry/registry.json" ] && break; sleep 0.1; done
  REGISTRY=$("$ROOT/.venv/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["host"])' "$WORK/registry/registry.json")
  if BASE_INFO=$("$ROOT/.venv/bin/python" -m tests.servers.buildah --dir "$WORK/buildah" --registry "$REGISTRY" 2>"$WORK/buildah.log"); then
    eval "$("$ROOT/.venv/bin/python" -c '
import json, shlex, sys
info = json.loads(sys.argv[1])
for k, v in info["env"].items():
    print(f"export {k}={shlex.quote(v)}")
print("export DEPLOYTAG_BUILD__ARGS=" + shlex.quote(json.dumps({"PYTHON_IMAGE": info["base"]})))
' "$BASE_INFO")"
    export DEPLOYTAG_IMAGES__APP__REPOSITORY="$REGISTRY/guestbook"
    export DEPLOYTAG_IMAGES__APP__BASE_DOCKERFILE=sandbox/Dockerfile.base
    echo "local registry on $REGISTRY; busybox base built with buildah (storage in $WORK/buildah)"
    step deploytag build --branch $BRANCH
    "$DT" --repo "$EXAMPLE" build --branch $BRANCH --commit "$COMMIT"
    step deploytag build --branch $BRANCH "   # nothing changed: both images found in the registry, nothing built"
    "$DT" --repo "$EXAMPLE" build --branch $BRANCH --commit "$COMMIT"
  else
    echo "note: buildah cannot build here ($(tail -1 "$WORK/buildah.log")); deploying with --skip-build"
    BUILD_FLAG=--skip-build
  fi
elif [ -z "${DEPLOYTAG_IMAGES__APP__REPOSITORY:-}" ]; then
  echo "note: no buildah/docker-registry here (or a real cluster without DEPLOYTAG_IMAGES__APP__REPOSITORY);"
  echo "      deploying the commit tag with --skip-build"
  BUILD_FLAG=--skip-build
fi

# DNS: the example's records go to Cloudflare. Without a zone id of your own, a local double of
# Cloudflare's v4 API (tests/servers/cloudflare.py) takes them, driven through the official SDK.
if [ -z "${DEPLOYTAG_DNS__ZONE_ID:-}" ]; then
  if [ -n "$KUBECONFIG_ARG" ]; then
    export DEPLOYTAG_DNS__PROVIDER=none
    echo "DNS off (set DEPLOYTAG_DNS__ZONE_ID and CLOUDFLARE_API_TOKEN to create records)"
  else
    "$ROOT/.venv/bin/python" -m tests.servers.cloudflare --dir "$WORK/dns" >"$WORK/dns.log" 2>&1 &
    DNS_PID=$!
    for _ in $(seq 50); do [ -s "$WORK/dns/cloudflare.json" ] && break; sleep 0.1; done
    cf() { "$ROOT/.venv/bin/python" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$WORK/dns/cloudflare.json" "$1"; }
    export DEPLOYTAG_DNS__ZONE_ID DEPLOYTAG_DNS__CLOUDFLARE__BASE_URL CLOUDFLARE_API_TOKEN
    DEPLOYTAG_DNS__ZONE_ID=$(cf zone_id)
    DEPLOYTAG_DNS__CLOUDFLARE__BASE_URL=$(cf base_url)
    CLOUDFLARE_API_TOKEN=$(cf token)
    echo "Cloudflare API double on $DEPLOYTAG_DNS__CLOUDFLARE__BASE_URL (zone $(cf zone))"
  fi
fi

run() { step deploytag "$@"; "$DT" --repo "$EXAMPLE" --kubeconfig "$KUBECONFIG_FILE" "$@"; }
run deploy --branch $BRANCH --commit "$COMMIT" $BUILD_FLAG
run list
run status --branch $BRANCH                        # what the namespace records: images, database, DNS
run deploy --branch $BRANCH --commit "$COMMIT" $BUILD_FLAG  # nothing changed: no build, Helm skipped, database kept
if [ "${DEPLOYTAG_DNS__PROVIDER:-}" != none ]; then
  run dns --branch $BRANCH --commit "$COMMIT"           # the records alone: already in place
fi
run destroy --branch $BRANCH
run list
