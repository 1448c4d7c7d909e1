"""The README's real-cluster path: `tools/example.sh --kubeconfig PATH`, end to end, on the real node.

The script is run as a user runs it; what a user would set for their own cluster comes from the
environment: the registry the node pulls from (the app image is built onto the session's Debian
Python base), a PostgreSQL the pods reach, and migrations run from here (``migrate_mode: local``,
the script's own choice when it starts its throwaway PostgreSQL), with DNS off. This cluster has
no cluster DNS or kube-proxy, so the app cannot reach the Redis subchart by its Service name:
Redis is switched off, and the app keeps its entries in memory.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from e2ehelpers import ROOT
from kubeapi import Kube, LoadBalancerController

from conftest import HOST_FROM_POD, build_env
from nodeimages import RuntimeImage
from realkube import RealKube
from servers.postgres import PostgresServer


def test_example_script_deploys_serves_and_destroys_on_the_real_cluster(
    real_node: RealKube,
    kube: Kube,
    load_balancers: LoadBalancerController,
    runtime_image: RuntimeImage,
    buildah_storage: Path,
    postgres_server: PostgresServer,
) -> None:
    suffix = secrets.token_hex(3)
    branch = f"feature/example-{suffix}"
    prefix = f"guestbook-feature-example-{suffix}-"
    load_balancers.watch(prefix)
    assert real_node.registry is not None
    env = {
        **os.environ,
        **build_env(real_node.registry, runtime_image, buildah_storage, "deploytag-e2e/example"),
        "DEPLOYTAG_DATABASE_ADMIN_URL": postgres_server.admin_url,
        "DEPLOYTAG_DATABASE__APP_HOST": HOST_FROM_POD,
        "DEPLOYTAG_DATABASE__MIGRATE_MODE": "local",
        "DEPLOYTAG_CHART__SET": json.dumps({"redis.enabled": "false"}),
    }
    for name in ("DEPLOYTAG_DNS__ZONE_ID", "CLOUDFLARE_API_TOKEN", "KUBECONFIG"):
        env.pop(name, None)
    try:
        proc = subprocess.run(
            [
                str(ROOT / "tools" / "example.sh"),
                "--kubeconfig",
                str(real_node.kubeconfig),
                "--branch",
                branch,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    finally:
        load_balancers.forget(prefix)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    # The first deploy built the image, migrated from here (with the venv's psycopg) and waited
    # for the kubelet's readiness probe; the second found nothing to do.
    assert re.search(r"migrate .*1 applied", output), output[-6000:]
    assert re.search(r"verify .*workloads ready", output), output[-6000:]
    assert "DNS off" in output and "deploytag dns" not in output
    # Push to ready: the first deploy, from the test gate and the image build to the kubelet's
    # readiness probe passing (its summary line); its steps' times are on stderr.
    total = re.search(r"^deployed: .* \(([0-9.]+) s\)$", proc.stdout, re.MULTILINE)
    assert total is not None, proc.stdout[-3000:]
    steps = re.findall(r"^[✓=] +(?:test|image|migrate|release|verify) .*$", proc.stderr, re.MULTILINE)
    print(f"\nexample.sh: push to ready {total.group(1)} s\n  " + "\n  ".join(steps[:5]), file=sys.stderr)
    # destroy left nothing behind: asked of the API server, not of the script's report.
    assert kube.namespaces(prefix) == []
    leases = [lease["metadata"]["name"] for lease in kube.store.list("leases", "default")]
    assert not [name for name in leases if name.startswith(f"deploytag-{prefix}")]
