"""No-op redeploy: `deploytag deploy` with nothing changed against a raw
`helm upgrade --install --wait` of the same chart, on the real control plane.

The app is tests/e2e_real/realapp.py's: a ConfigMap-only chart in a real git
repository, ready without a node. The cluster is DEPLOYTAG_BENCH_KUBECONFIG's,
else ../shared/k8s/up started for this run (about 15 s) and stopped afterwards.

Target: <= 1x. DeployTag compares a fingerprint recorded on the namespace and
skips helm; raw helm always renders, waits and writes a new revision.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from _util import ROOT, compile_sources, costliest_imports, real_control_plane, report, time_pair

sys.path.insert(0, str(ROOT / "tests" / "e2e_real"))

from realapp import make_app


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    compile_sources()
    with tempfile.TemporaryDirectory() as tmp, real_control_plane() as kubeconfig:
        app = make_app(Path(tmp), kubeconfig, commits=1)
        commit = app.commits[-1]
        first = app.deploy(commit)
        if first.returncode != 0:
            sys.exit(f"first deploy failed: {first.stderr}")
        deploy = app.argv(*app.deploy_args(commit))
        raw_name = f"raw-{app.app}"
        raw = [
            str(app.helm),
            "upgrade",
            "--install",
            raw_name,
            str(app.repo / "chart"),
            "--namespace",
            raw_name,
            "--create-namespace",
            "--wait",
            "--timeout",
            "60s",
            "--set-string",
            f"deploytag.commit={commit}",
            "--kubeconfig",
            str(kubeconfig),
        ]
        # A fresh machine (most CI runners) has not cached helm's version yet: every run asks helm.
        cold_cache = Path(tmp) / "cold-cache"
        cold = ["sh", "-c", 'rm -rf "$0" && XDG_CACHE_HOME="$0" exec "$@"', str(cold_cache), *deploy]
        try:
            ours, reference = time_pair(deploy, raw, runs=runs, extra_env=app.env())
            report("deploytag deploy (no-op)", ours, reference, "helm upgrade --install --wait", "<= 1.0x")
            ours, reference = time_pair(cold, raw, runs=runs, extra_env=app.env())
            report(
                "  the same, helm version not cached", ours, reference, "helm upgrade --install --wait", ""
            )
            costliest_imports(deploy, label="deploytag deploy (no-op)", cwd=app.repo, extra_env=app.env())
        finally:
            app.run("destroy", "--branch", app.branch, "--timeout", "60")
            subprocess.run(
                [str(app.helm), "uninstall", raw_name, "-n", raw_name, "--kubeconfig", str(kubeconfig)],
                env=app.env(),
                capture_output=True,
                check=False,
            )


if __name__ == "__main__":
    main()
