"""`pip install deploytag` deploys to a cluster; an optional SDK that is missing is one line naming its extra.

Each case runs the installed `deploytag` command with packages hidden by a meta path
finder (tests/cli/hide_packages/sitecustomize.py on PYTHONPATH): the real import fails
as it does where the package is not installed. Nothing is mocked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from cliutil import DEPLOYTAG, ROOT, copy_example, run

COMMIT = "0123456789abcdef0123456789abcdef01234567"
HIDE = Path(__file__).parent / "hide_packages"
OPTIONAL_SDKS = ("boto3", "botocore", "psycopg", "pymysql", "dns", "cloudflare")


def hidden(*packages: str, **env: str) -> dict[str, str]:
    return {"PYTHONPATH": str(HIDE), "DEPLOYTAG_TEST_HIDE_PACKAGES": ",".join(packages), **env}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


def assert_one_line(stderr: str, *needles: str) -> None:
    errors = [line for line in stderr.splitlines() if line.startswith("deploytag: error: ")]
    assert len(errors) == 1, stderr
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in errors[0], errors[0]


def test_the_kubernetes_client_is_a_core_dependency_and_the_other_sdks_are_extras() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = project["dependencies"]
    assert any(d.startswith("kubernetes>=30,<37") for d in core)
    extras = project["optional-dependencies"]
    for extra, package in (("aws", "boto3"), ("postgres", "psycopg"), ("mysql", "PyMySQL")):
        assert any(d.startswith(package) for d in extras[extra])
        assert not any(d.startswith(package) for d in core)
    assert {d.split(">")[0].split("[")[0] for d in extras["dns"]} == {"dnspython", "cloudflare"}


def test_help_and_plan_need_no_optional_sdk_and_no_kubernetes(repo: Path) -> None:
    everything = hidden("kubernetes", *OPTIONAL_SDKS)
    assert run(repo, "--help", env=everything).returncode == 0
    plan = run(repo, "plan", "--branch", "feature/x", "--commit", COMMIT, "--no-render", env=everything)
    assert plan.returncode == 0, plan.stderr


@pytest.mark.parametrize(
    ("packages", "args", "env", "extra"),
    [
        pytest.param(
            ["boto3", "botocore"],
            [
                "--cloud",
                "aws",
                "--cloud-aws-secret-id",
                "staging/app",
                "plan",
                "--read-secrets",
                "--no-render",
            ],
            {},
            "aws",
            id="aws-secret-store",
        ),
        pytest.param(
            ["cloudflare"],
            ["dns", "--delete", "--dry-run"],
            {"DEPLOYTAG_DNS__ZONE_ID": "zone-id", "CLOUDFLARE_API_TOKEN": "token-value"},
            "dns",
            id="cloudflare",
        ),
        pytest.param(
            ["boto3", "botocore"],
            ["dns", "--provider", "route53", "--zone", "example.com", "--delete", "--dry-run"],
            {},
            "aws",
            id="route53",
        ),
        pytest.param(
            ["dns"],
            ["dns", "--provider", "rfc2136", "--zone", "example.com", "--delete", "--dry-run"],
            {},
            "dns",
            id="rfc2136",
        ),
    ],
)
def test_a_provider_whose_sdk_is_missing_names_the_extra(
    repo: Path, packages: list[str], args: list[str], env: dict[str, str], extra: str
) -> None:
    result = run(repo, *args, "--branch", "feature/x", "--commit", COMMIT, env=hidden(*packages, **env))
    assert result.returncode == 3, result.stderr
    assert_one_line(result.stderr, "is not installed", f"pip install 'deploytag[{extra}]'")
    assert "token-value" not in result.stderr


@pytest.mark.parametrize(
    ("engine", "package", "url"),
    [
        ("postgres", "psycopg", "postgresql://u:pw@127.0.0.1:1/postgres"),
        ("mysql", "pymysql", "mysql://u:pw@127.0.0.1:1/mysql"),
    ],
)
def test_a_database_engine_whose_driver_is_missing_names_the_extra(
    repo: Path, engine: str, package: str, url: str
) -> None:
    env = hidden(
        package,
        DEPLOYTAG_DATABASE__ENGINE=engine,
        DEPLOYTAG_DATABASE_ADMIN_URL=url,
        DEPLOYTAG_DNS__PROVIDER="none",
        DEPLOYTAG_BUILD__ENABLED="false",
    )
    # plan never fails for the database: it says why it cannot tell.
    plan = run(
        repo, "plan", "--branch", "feature/x", "--commit", COMMIT, "--no-render", "-o", "json", env=env
    )
    assert plan.returncode == 0, plan.stderr
    assert f"pip install 'deploytag[{engine}]'" in plan.json()["database"]["exists"]
    # deploy stops in its preflight, before the cluster (unreachable here) is asked anything.
    deploy = run(
        repo,
        "--kubeconfig",
        str(repo / "no-such-kubeconfig"),
        "deploy",
        "--branch",
        "feature/x",
        "--commit",
        COMMIT,
        "--skip-tests",
        env=env,
    )
    assert deploy.returncode == 3, deploy.stderr
    assert_one_line(
        deploy.stderr, f"needs the Python package {package}", f"pip install 'deploytag[{engine}]'"
    )


def _kubeconfig(repo: Path, user: str) -> Path:
    path = repo / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        f"users: [{{name: u, user: {user}}}]\n"
        "contexts: [{name: dev, context: {cluster: c, user: u}}]\ncurrent-context: dev\n"
    )
    return path


def test_a_missing_kubernetes_client_says_to_reinstall(repo: Path) -> None:
    # Only the SDK fallback needs the client: here a legacy auth-provider (see sdkfallback).
    kubeconfig = _kubeconfig(repo, "{auth-provider: {name: oidc, config: {client-id: x, id-token: y}}}")
    result = run(
        repo,
        "--kubeconfig",
        str(kubeconfig),
        "status",
        "--branch",
        "feature/x",
        "--commit",
        COMMIT,
        env=hidden("kubernetes"),
    )
    assert result.returncode == 8, result.stderr
    assert_one_line(result.stderr, "kubernetes Python client is not installed", "reinstall DeployTag")


def test_token_and_certificate_kubeconfigs_need_no_kubernetes_client(repo: Path) -> None:
    kubeconfig = _kubeconfig(repo, "{token: t0ken-value}")
    args = ("--kubeconfig", str(kubeconfig), "status", "--branch", "feature/x", "--commit", COMMIT)
    result = run(repo, *args, env=hidden("kubernetes", "urllib3"))
    assert result.returncode == 8, result.stderr
    assert_one_line(result.stderr, "cannot reach context dev (http://127.0.0.1:9)")  # nothing listens there
    assert "t0ken-value" not in result.stderr


@pytest.mark.parametrize(
    ("code", "extra"),
    [
        ("from deploytag.adapters.images.ecr import ecr_credentials as f; f(region='us-east-1')", "aws"),
        ("from deploytag.adapters.images.s3_context import S3ContextStore as f; f()", "aws"),
    ],
    ids=["ecr-login", "kaniko-s3-context"],
)
def test_image_paths_that_use_boto3_name_the_extra(code: str, extra: str) -> None:
    # ECR and S3 are not reachable from this machine, so these two are run at the adapter:
    # the same require() the CLI paths above go through, with boto3 really missing.
    probe = (
        "from deploytag.core.errors import ConfigError\n"
        f"try:\n    {code}\nexcept ConfigError as e:\n    print(e)\n    raise SystemExit(3)\n"
    )
    env = {**os.environ, **hidden("boto3", "botocore")}
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 3, result.stderr
    assert f"pip install 'deploytag[{extra}]'" in result.stdout


def test_an_unguarded_import_of_an_optional_sdk_still_ends_in_one_line(tmp_path: Path) -> None:
    # The CLI's last line of defence: an adapter that imported its SDK without require().
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    (plugin / "sitecustomize.py").write_text(
        (HIDE / "sitecustomize.py").read_text()
        + "\nimport deploytag.cli.main as m\n"
        + "def _boom():\n    import boto3  # noqa: F401\n"
        + "m.cli.add_command(__import__('click').command('boom')(_boom))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(plugin), "DEPLOYTAG_TEST_HIDE_PACKAGES": "boto3"}
    result = subprocess.run([str(DEPLOYTAG), "boom"], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 3, result.stderr
    assert_one_line(result.stderr, "boto3 is not installed", "pip install 'deploytag[aws]'")
