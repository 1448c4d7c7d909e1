"""Kubeconfigs for the direct transport's tests, pointed at the session's real API server.

``Identities`` makes a namespace with two ServiceAccounts and asks the real API server for
their tokens (``kubectl create token``): a 403 from the server names the account whose
credential a request carried, which is how the tests see which one was sent.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from realkube import ROOT, RealKube


def kubectl(kube: RealKube, *args: str, stdin: str | None = None) -> str:
    binary = ROOT / ".tools" / "bin" / "kubectl"
    command = str(binary) if binary.exists() else (shutil.which("kubectl") or "kubectl")
    context = ["--context", kube.context] if kube.context else []
    proc = subprocess.run(
        [command, "--kubeconfig", str(kube.kubeconfig), *context, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@dataclass(frozen=True)
class Admin:
    """The session kubeconfig's own context: its server, CA and (when it has one) client certificate."""

    server: str
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    @classmethod
    def of(cls, kube: RealKube) -> Admin:
        config = yaml.safe_load(kube.kubeconfig.read_text())
        name = kube.context or config["current-context"]
        context = next(c["context"] for c in config["contexts"] if c["name"] == name)
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
        users: list[dict[str, Any]] = config.get("users") or []
        user: dict[str, Any] = next((u["user"] for u in users if u["name"] == context.get("user")), {})
        directory = kube.kubeconfig.parent

        def pem(entry: dict[str, Any], key: str) -> bytes:
            if entry.get(f"{key}-data"):
                return base64.b64decode(entry[f"{key}-data"])
            return (directory / entry[key]).read_bytes() if entry.get(key) else b""

        return cls(
            server=cluster["server"],
            ca_pem=pem(cluster, "certificate-authority"),
            cert_pem=pem(user, "client-certificate"),
            key_pem=pem(user, "client-key"),
        )

    def cluster(self, **extra: Any) -> dict[str, Any]:
        return {"server": self.server, "certificate-authority-data": b64(self.ca_pem), **extra}


@dataclass(frozen=True)
class Identities:
    namespace: str
    alpha: str  # token of ServiceAccount alpha, which may view its namespace
    beta: str  # token of ServiceAccount beta, which may do nothing
    gamma: str  # token of ServiceAccount gamma, admin of its namespace (create, update, delete)

    def user(self, account: str) -> str:
        return f"system:serviceaccount:{self.namespace}:{account}"


def make_identities(kube: RealKube) -> Identities:
    namespace = f"dt-kuberest-{uuid.uuid4().hex[:8]}"
    kubectl(kube, "create", "namespace", namespace)
    for account in ("alpha", "beta", "gamma"):
        kubectl(kube, "-n", namespace, "create", "serviceaccount", account)
    for account, role in (("alpha", "view"), ("gamma", "admin")):
        kubectl(
            kube, "-n", namespace, "create", "rolebinding", f"{account}-{role}", f"--clusterrole={role}",
            f"--serviceaccount={namespace}:{account}",
        )  # fmt: skip
    tokens = [
        kubectl(kube, "-n", namespace, "create", "token", account, "--duration=1h").strip()
        for account in ("alpha", "beta", "gamma")
    ]
    return Identities(namespace=namespace, alpha=tokens[0], beta=tokens[1], gamma=tokens[2])


def write_kubeconfig(
    path: Path,
    cluster: dict[str, Any],
    user: dict[str, Any],
    *,
    context: str = "dev",
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": cluster}],
                "users": [{"name": "u", "user": user}],
                "contexts": [{"name": context, "context": {"cluster": "c", "user": "u"}}],
                "current-context": context,
            }
        )
    )
    path.chmod(0o600)
    return path


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


EXEC_PLUGIN = """\
import json, os, sys
from pathlib import Path
here = Path(__file__).parent
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
runs = here / "runs"
with runs.open("a") as f:
    f.write(info["apiVersion"] + " " + os.environ.get("PLUGIN_GREETING", "-") + "\\n")
answers = (here / "answers").read_text().split("\\n---\\n")
run = len(runs.read_text().splitlines())
print(answers[min(run, len(answers)) - 1])
"""


def exec_plugin(directory: Path, *answers: dict[str, Any]) -> Path:
    """A real plugin program: prints its Nth ExecCredential on its Nth run and logs each run
    (the apiVersion it was asked for, and the PLUGIN_GREETING the kubeconfig's env sets) to ``runs``."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "plugin"
    script.write_text(f"#!{os.path.realpath(shutil.which('python3') or '/usr/bin/python3')}\n" + EXEC_PLUGIN)
    script.chmod(0o755)
    (directory / "answers").write_text("\n---\n".join(json.dumps(a) for a in answers))
    return script


def credential(api_version: str, **status: Any) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": "ExecCredential", "status": status}


def runs(directory: Path) -> list[str]:
    path = directory / "runs"
    return path.read_text().splitlines() if path.exists() else []
