"""The bundled example app, examples/guestbook: its tests, its chart with the real helm, its config.

Helm works on a temporary copy of the chart with its own (empty) Helm home, so the
repository is never dirtied and nothing is fetched: the only dependency is the local
Redis subchart.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploytag.core.config import load_config
from deploytag.core.dockerfile import parse
from deploytag.core.dockerignore import IgnoreMatcher, context_files

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "guestbook"
DEPLOY = EXAMPLE / "deploy"

ENVIRONMENTS: dict[str, list[Path]] = {
    "defaults": [],
    "preview": [DEPLOY / "values-common.yaml", DEPLOY / "values-preview.yaml"],
    "staging": [DEPLOY / "values-common.yaml", DEPLOY / "values-staging.yaml"],
}


def chart_defaults() -> dict[str, Any]:
    values = yaml.safe_load((EXAMPLE / "chart" / "values.yaml").read_text())
    assert isinstance(values, dict)
    return values


# --------------------------------------------------------------------------- the app's own tests


def test_example_unit_tests_pass() -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}  # no __pycache__ left in the repository
    for name in ("REDIS_HOST", "DATABASE_URL", "SECRET_KEY"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "unittest", "discover", "-s", "tests"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    ran = re.search(r"^Ran (\d+) tests?", output, re.MULTILINE)
    assert ran is not None, output
    assert int(ran.group(1)) >= 20, output


def test_test_command_in_config_is_the_one_that_runs_them() -> None:
    config = load_config(repo=EXAMPLE, environ={}).config
    assert config.test.command == ["python", "-m", "unittest", "discover", "-s", "tests"]


# --------------------------------------------------------------------------- helm


class Helm:
    """The real helm binary with a private, empty Helm home (no repositories, no network)."""

    def __init__(self, binary: Path, home: Path) -> None:
        self.binary = binary
        self.env = {
            **os.environ,
            "HELM_CONFIG_HOME": str(home / "config"),
            "HELM_CACHE_HOME": str(home / "cache"),
            "HELM_DATA_HOME": str(home / "data"),
            # Any attempt to reach the network fails instead of quietly succeeding.
            "HTTP_PROXY": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9",
        }

    def __call__(self, *args: str | Path) -> str:
        result = subprocess.run(
            [str(self.binary), *map(str, args)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"helm {' '.join(map(str, args))}:\n{result.stdout}{result.stderr}"
        return result.stdout

    def template(
        self,
        chart: Path,
        values: Sequence[Path] = (),
        *,
        sets: Mapping[str, str] | None = None,
        set_strings: Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        args: list[str | Path] = ["template", "demo", chart, "--namespace", "guestbook-demo"]
        for path in values:
            args += ["-f", path]
        for key, value in (sets or {}).items():
            args += ["--set", f"{key}={value}"]
        for key, value in (set_strings or {}).items():
            args += ["--set-string", f"{key}={value}"]
        return [doc for doc in yaml.safe_load_all(self(*args)) if doc]


@pytest.fixture
def helm(helm_bin: Path, tmp_path: Path) -> Helm:
    return Helm(helm_bin, tmp_path / "helm-home")


@pytest.fixture
def chart(helm: Helm, tmp_path: Path) -> Path:
    """A copy of the example chart with its dependencies built."""
    copy = tmp_path / "chart"
    shutil.copytree(EXAMPLE / "chart", copy, ignore=shutil.ignore_patterns("charts", "Chart.lock"))
    helm("dependency", "build", copy)
    return copy


def find(manifests: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    matches = [m for m in manifests if m["kind"] == kind and (name is None or m["metadata"]["name"] == name)]
    assert len(matches) == 1, (
        f"expected one {kind} {name or ''}, got {[m['metadata']['name'] for m in matches]}"
    )
    return matches[0]


def container_env(deployment: dict[str, Any]) -> dict[str, str]:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container.get("env", [])}


@pytest.mark.helm
def test_dependency_build_packages_the_local_subchart(chart: Path) -> None:
    assert sorted(p.name for p in (chart / "charts").iterdir()) == ["redis-0.1.0.tgz"]
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    (dependency,) = meta["dependencies"]
    assert dependency["repository"] == "file://subcharts/redis"
    assert dependency["condition"] == "redis.enabled"
    assert (meta["apiVersion"], meta["name"], meta["version"]) == ("v2", "guestbook", "0.1.0")


@pytest.mark.helm
@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_lint(helm: Helm, chart: Path, environment: str) -> None:
    args: list[str | Path] = ["lint", chart, "--strict", "--set", "envSecretName=guestbook-env"]
    for path in ENVIRONMENTS[environment]:
        args += ["-f", path]
    assert "0 chart(s) failed" in helm(*args)


@pytest.mark.helm
@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_template_renders_app_and_redis(helm: Helm, chart: Path, environment: str) -> None:
    manifests = helm.template(chart, ENVIRONMENTS[environment])
    defaults = chart_defaults()

    app = find(manifests, "Deployment", "demo-guestbook")
    pod = app["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == f"{defaults['image']['repository']}:{defaults['image']['tag']}"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["resources"]["requests"]
    assert container["resources"]["limits"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert "envFrom" not in container  # no Secret named: nothing mounted

    redis = find(manifests, "StatefulSet", "demo-redis")
    (redis_container,) = redis["spec"]["template"]["spec"]["containers"]
    assert redis_container["image"] == "redis:7.2.5-alpine"
    assert redis_container["livenessProbe"]["tcpSocket"]
    assert "redis-cli" in " ".join(redis_container["readinessProbe"]["exec"]["command"])
    assert redis_container["resources"]["requests"]
    assert redis_container["resources"]["limits"]
    assert redis["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == 999
    assert redis["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True

    # The app finds Redis through the subchart's Service.
    redis_service = find(manifests, "Service", "demo-redis")
    assert container_env(app)["REDIS_HOST"] == redis_service["metadata"]["name"]
    assert container_env(app)["REDIS_PORT"] == str(redis_service["spec"]["ports"][0]["port"])

    service = find(manifests, "Service", "demo-guestbook")
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    find(manifests, "ServiceAccount", "demo-guestbook")

    labels = app["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "guestbook"
    assert labels["app.kubernetes.io/instance"] == "demo"
    assert labels["app.kubernetes.io/managed-by"] == "Helm"
    assert labels["helm.sh/chart"] == "guestbook-0.1.0"
    assert "app.kubernetes.io/version" in labels

    if environment == "preview":
        assert app["spec"]["replicas"] == 1
        assert service["spec"]["type"] == "LoadBalancer"
        assert not [m for m in manifests if m["kind"] == "Ingress"]
    elif environment == "staging":
        assert app["spec"]["replicas"] == 2
        assert service["spec"]["type"] == "ClusterIP"
        ingress = find(manifests, "Ingress")
        assert ingress["spec"]["rules"][0]["host"] == "guestbook-staging.example.com"
        find(manifests, "PodDisruptionBudget")
    else:
        assert service["spec"]["type"] == "ClusterIP"


@pytest.mark.helm
def test_values_deploytag_injects(helm: Helm, chart: Path) -> None:
    manifests = helm.template(
        chart,
        ENVIRONMENTS["preview"],
        set_strings={
            "image.repository": "registry.example.com/guestbook",
            "image.tag": "0123456789abcdef0123456789abcdef01234567",
            "envSecretName": "guestbook-feature-login-env",
        },
    )
    (container,) = find(manifests, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.example.com/guestbook:0123456789abcdef0123456789abcdef01234567"
    assert container["envFrom"] == [{"secretRef": {"name": "guestbook-feature-login-env"}}]


@pytest.mark.helm
def test_redis_can_be_disabled(helm: Helm, chart: Path) -> None:
    manifests = helm.template(chart, sets={"redis.enabled": "false"})
    assert not [m for m in manifests if m["kind"] == "StatefulSet"]
    assert "REDIS_HOST" not in container_env(find(manifests, "Deployment"))


@pytest.mark.helm
def test_long_release_names_stay_valid(helm: Helm, chart: Path) -> None:
    release = "guestbook-" + "x" * 43  # Helm's limit: 53 characters
    out = helm("template", release, chart)
    manifests = [doc for doc in yaml.safe_load_all(out) if doc]
    statefulset = find(manifests, "StatefulSet")
    # A StatefulSet's name must leave room for its pods' controller-revision-hash label.
    assert len(statefulset["metadata"]["name"]) <= 52
    for manifest in manifests:
        assert len(manifest["metadata"]["name"]) <= 63, manifest["metadata"]["name"]
    env = container_env(find(manifests, "Deployment"))
    assert env["REDIS_HOST"] == statefulset["metadata"]["name"]


# --------------------------------------------------------------------------- deploytag.yaml


def test_deploytag_yaml_is_valid_and_its_files_exist() -> None:
    loaded = load_config(repo=EXAMPLE, environ={})
    config = loaded.config
    assert loaded.file == EXAMPLE / "deploytag.yaml"
    assert config.app == "guestbook"
    assert config.branches.permanent["main"].environment == "staging"
    assert config.branches.permanent["main"].namespace == "guestbook-staging"
    assert set(config.chart.environments) == {"preview", "staging"}
    assert config.database.engine == "postgres"
    assert config.database.migrate == ["python", "migrate.py"]
    assert config.dns.records == ["{.Branch}-guest-server-frontend-aws", "{.Branch}-guest-server-server-aws"]

    assert (loaded.resolve(config.chart.path) / "Chart.yaml").is_file()
    for path in [*config.chart.values, *(p for paths in config.chart.environments.values() for p in paths)]:
        assert loaded.resolve(path).is_file(), path
    image = config.images["app"]
    assert image.repository == "registry.example.com/guestbook"
    assert loaded.resolve(image.dockerfile).is_file()
    assert image.base_dockerfile is not None
    assert loaded.resolve(image.base_dockerfile).is_file()
    migrate = config.database.migrate
    assert (EXAMPLE / migrate[-1]).is_file()

    # The staging values give permanent environments the replicas lint expects.
    staging = yaml.safe_load((DEPLOY / "values-staging.yaml").read_text())
    assert staging["replicaCount"] >= config.branches.permanent["main"].min_replicas


def test_feature_login_gets_readable_names_and_the_documented_dns_record() -> None:
    """The example's {.Branch}-guest-server-frontend-aws in zone example.com, for feature/login."""
    from deploytag.core.branch import BranchRef
    from deploytag.service.resolve import target_for

    loaded = load_config(repo=EXAMPLE, environ={})
    names = target_for(BranchRef("feature/login", "0" * 40, "flag"), loaded).names
    assert names is not None
    assert (names.namespace, names.release) == ("guestbook-feature-login", "guestbook-feature-login")
    assert [r.fqdn for r in names.dns_records] == [
        "feature-login-guest-server-frontend-aws.example.com",
        "feature-login-guest-server-server-aws.example.com",
    ]


def test_secrets_file_holds_every_configured_id() -> None:
    loaded = load_config(repo=EXAMPLE, environ={})
    data = yaml.safe_load(loaded.resolve(loaded.config.secrets.file).read_text())
    assert loaded.config.secrets.provider == "file"
    for secret_id in loaded.config.secrets.ids:
        values = data[secret_id]
        assert values
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())
        assert "SECRET_KEY" in values


def test_dockerfiles() -> None:
    base = (EXAMPLE / "Dockerfile.base").read_text()
    app = (EXAMPLE / "Dockerfile").read_text()
    from_line = next(line for line in base.splitlines() if line.startswith("FROM "))
    assert from_line == "FROM ${PYTHON_IMAGE}"  # a build arg, so a mirror or the sandbox can stand in
    default = parse(base).arg_defaults()["PYTHON_IMAGE"]
    assert default is not None
    assert re.fullmatch(r"python:3\.12\.\d+-slim\S*", default), "base image pinned by tag"
    instructions = [line.split()[0] for line in app.splitlines() if line and not line.startswith("#")]
    assert instructions[:2] == ["ARG", "FROM"]
    for line in ("ARG BASE_IMAGE", "FROM ${BASE_IMAGE}", "USER 10001:10001", "EXPOSE 8080"):
        assert line in app.splitlines()
    ignored = (EXAMPLE / ".dockerignore").read_text().splitlines()
    assert "*" in ignored  # everything out, then an allow-list ...
    assert "!secrets.local.yaml" not in ignored  # ... that never lets the secrets file in
    sent = context_files(EXAMPLE, IgnoreMatcher.for_context(EXAMPLE))
    assert "secrets.local.yaml" not in sent and "guestbook/__main__.py" in sent
