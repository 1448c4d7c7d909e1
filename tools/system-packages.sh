#!/usr/bin/env bash
# The real servers and builders the test suite runs against (DESIGN.md "Testing
# with real parts"), from Debian's packages: PostgreSQL 15, MariaDB, BIND 9,
# PowerDNS, buildah, the distribution v2 registry and busybox-static (the tiny
# base image), and what the real Kubernetes control plane and node in
# ../shared/k8s need (xz, openssl, curl, containerd, runc, CNI plugins, iptables). Installs only what is missing; the tests start the servers
# themselves on loopback, never through systemd.
set -euo pipefail
declare -A NEED=(
  [/usr/lib/postgresql/15/bin/postgres]=postgresql-15
  [/usr/sbin/mariadbd]=mariadb-server
  [/usr/sbin/named]=bind9
  [/usr/bin/named-checkconf]=bind9-utils
  [/usr/sbin/pdns_server]=pdns-server
  [/usr/lib/x86_64-linux-gnu/pdns/libgsqlite3backend.so]=pdns-backend-sqlite3
  [/usr/bin/sqlite3]=sqlite3
  [/usr/bin/buildah]=buildah
  [/usr/bin/docker-registry]=docker-registry
  [/bin/busybox]=busybox-static
  # the real Kubernetes control plane (../shared/k8s/up) and its node (node-up)
  [/usr/bin/xz]=xz-utils
  [/usr/bin/openssl]=openssl
  [/usr/bin/curl]=curl
  [/usr/bin/containerd]=containerd
  [/usr/sbin/runc]=runc
  [/usr/lib/cni/bridge]=containernetworking-plugins
  [/usr/sbin/iptables]=iptables
  # the e2e tests' Python base image for the node, made from Debian packages (tests/nodeimages.py)
  [/usr/bin/mmdebstrap]=mmdebstrap
  # shellcheck for the scripts of the CI templates `deploytag init --ci` writes (tests/init)
  [/usr/bin/shellcheck]=shellcheck
)
missing=()
for path in "${!NEED[@]}"; do
  [ -e "$path" ] || missing+=("${NEED[$path]}")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "system-packages.sh: missing ${missing[*]}; install them (apt-get install ${missing[*]}) or the tests that need them skip" >&2
  exit 0
fi
echo "system-packages.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d 101 keeps the packages' own services from starting: the tests start their own.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
rm -f /usr/sbin/policy-rc.d
