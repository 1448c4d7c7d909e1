"""`deploytag plan` imports nothing it does not use: no deploy, destroy or rollback machinery, no
cluster client and no SDK of a provider (bench/plan.py measures what that saves); and its records
are msgspec Structs, not dataclasses (docs/development.md)."""

from __future__ import annotations

import os
from pathlib import Path

from cliutil import ROOT, copy_example

from importprobe import loaded, probe_imports

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

# Each @dataclass costs 0.3-0.5 ms to create, a Struct ~0.05 ms: plan's records are Structs. These
# hold secrets and hide them from repr with field(repr=False), which msgspec has no switch for.
SECRET_HOLDING_DATACLASSES = [
    "deploytag.capabilities.outputs.DatabaseConnection",
    "deploytag.ports.images.RegistryCredentials",
    "deploytag.ports.secrets.SecretBundle",
]


def test_plan_imports_no_deploy_machinery_and_no_sdk(tmp_path: Path, helm_bin: Path) -> None:
    repo = copy_example(tmp_path)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(ROOT / ".tools/bin"), env.get("PATH", "")])
    env["DEPLOYTAG_TOOLS__HELM"] = str(helm_bin)
    args = ["--repo", str(repo), "plan", "--branch", "feature/login", "--commit", "0" * 40, "-o", "json"]
    run = probe_imports(args, env=env)
    status, modules = run.status, run.modules
    assert status == 0
    assert "deploytag.service.plan" in modules  # the probe saw the command run
    assert loaded(modules, NOT_FOR_PLAN) == []
    # a new record on plan's path is a msgspec Struct (docs/development.md), unless it hides a secret
    assert run.dataclasses == SECRET_HOLDING_DATACLASSES
