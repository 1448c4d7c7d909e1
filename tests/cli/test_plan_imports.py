"""`deploytag plan` imports nothing it does not use: no deploy, destroy or rollback machinery, no
cluster client and no SDK of a provider (bench/plan.py measures what that saves)."""

from __future__ import annotations

import os
from pathlib import Path

from cliutil import ROOT, copy_example

from importprobe import imported_by, loaded

NOT_FOR_PLAN = [
    # service and capabilities only deploy / destroy / rollback / build use
    "deploytag.service.deploy",
    "deploytag.service.destroy",
    "deploytag.service.rollback",
    "deploytag.service.build",
    "deploytag.capabilities.runner",
    "deploytag.capabilities.lock",
    "deploytag.capabilities.verify",
    "deploytag.capabilities.migrate",
    "deploytag.capabilities.expose",
    # adapters of systems plan never talks to, and their SDKs
    "deploytag.adapters.kubernetes",
    "deploytag.adapters.secrets.aws",
    "deploytag.adapters.databases.postgres",
    "deploytag.adapters.databases.mysql",
    "kubernetes",
    "urllib3",
    "requests",
    "boto3",
    "botocore",
    "psycopg",
    "pymysql",
    "dns",
    "cloudflare",
    "importlib.metadata",  # its `email` imports cost 15-20 ms: DeployTag's own entry points are read directly
    # the config schema is msgspec Structs: pydantic cost every run ~95 ms (issue 11)
    "pydantic",
    "pydantic_core",
]


def test_plan_imports_no_deploy_machinery_and_no_sdk(tmp_path: Path, helm_bin: Path) -> None:
    repo = copy_example(tmp_path)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(ROOT / ".tools/bin"), env.get("PATH", "")])
    env["DEPLOYTAG_TOOLS__HELM"] = str(helm_bin)
    args = ["--repo", str(repo), "plan", "--branch", "feature/login", "--commit", "0" * 40, "-o", "json"]
    status, modules = imported_by(args, env=env)
    assert status == 0
    assert "deploytag.service.plan" in modules  # the probe saw the command run
    assert loaded(modules, NOT_FOR_PLAN) == []
