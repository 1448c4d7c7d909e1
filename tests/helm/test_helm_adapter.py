"""HelmBinary against the real helm, Helm 3 and Helm 4: everything that needs no cluster.

The cluster operations are in test_helm_release.py.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypedDict

import pytest
import yaml
from helmtesting import RecordingRunner, values_seen_by_chart

from deploytag.adapters.helm.binary import RENDER_MARKER, HelmBinary, dependencies_stale
from deploytag.capabilities.render import render_chart
from deploytag.core.errors import ChartError, ClusterError, ConfigError, ToolMissingError
from deploytag.core.values import build_layers, explain
from deploytag.ports.helm import KubeTarget

pytestmark = pytest.mark.helm


def values_file_in(argv: Sequence[str]) -> Path:
    """The last ``-f``: the one the adapter wrote."""
    flags = [i for i, a in enumerate(argv) if a == "-f"]
    return Path(argv[flags[-1] + 1])


def test_version_is_detected_once(helm: HelmBinary, helm_bin: Path, runner: RecordingRunner) -> None:
    assert helm.version().startswith(f"v{helm_bin.parent.name[-1]}.")
    assert helm.major == int(helm_bin.parent.name[-1])
    helm.version()
    assert runner.subcommands().count("version") == 1


def test_missing_binary_says_how_to_install(runner: RecordingRunner, tmp_path: Path) -> None:
    helm = HelmBinary(runner=runner, binary=str(tmp_path / "no-helm-here"))
    with pytest.raises(ToolMissingError) as info:
        helm.version()
    assert "install" in (info.value.hint or "")


def test_template_writes_one_file_per_source(helm: HelmBinary, charts: Path, tmp_path: Path) -> None:
    out = tmp_path / "rendered"
    helm.dependency_build(chart=charts / "app")
    rendered = helm.template(
        chart=charts / "app", release="web", namespace="ns1", values_files=[], values={}, output_dir=out
    )
    relative = sorted(str(f.relative_to(out)) for f in rendered.files)
    assert relative == [
        "app/charts/lib/templates/configmap.yaml",
        "app/templates/deployment.yaml",
        "app/templates/extra.yaml",
        "app/templates/service.yaml",
        "app/templates/values.yaml",
    ]
    kinds = sorted(m["kind"] for m in rendered.manifests)
    assert kinds == ["ConfigMap"] * 4 + ["Deployment", "Service"]
    # Two documents from one template share its file.
    extra = list(yaml.safe_load_all((out / "app/templates/extra.yaml").read_text()))
    assert [d["metadata"]["name"] for d in extra] == ["web-first", "web-second"]
    assert (out / RENDER_MARKER).is_file()


class TemplateArgs(TypedDict):
    """The keyword arguments of ``helm.template`` that name the chart and its release."""

    chart: Path
    release: str
    namespace: str
    values_files: Sequence[Path]


def test_template_clears_the_previous_render(helm: HelmBinary, charts: Path, tmp_path: Path) -> None:
    out = tmp_path / "rendered"
    helm.dependency_build(chart=charts / "app")
    args: TemplateArgs = {"chart": charts / "app", "release": "web", "namespace": "ns1", "values_files": []}
    helm.template(**args, values={}, output_dir=out)
    assert (out / "app/charts/lib/templates/configmap.yaml").is_file()
    rendered = helm.template(**args, values={"lib": {"enabled": False}}, output_dir=out)
    assert not (out / "app/charts").exists()
    assert all(f.is_file() for f in rendered.files)


def test_template_refuses_to_clear_a_foreign_directory(
    helm: HelmBinary, charts: Path, tmp_path: Path
) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(ChartError) as info:
        helm.template(
            chart=charts / "app", release="web", namespace="ns1", values_files=[], values={}, output_dir=out
        )
    assert "did not write" in info.value.message
    assert (out / "notes.txt").read_text() == "keep me"


def test_values_go_through_a_private_file_never_argv(
    helm: HelmBinary, charts: Path, tmp_path: Path, runner: RecordingRunner
) -> None:
    sentinel = "sentinel-7f3a9c1e"
    seen: dict[str, int] = {}

    def look(argv: Sequence[str]) -> None:
        if "template" in argv:
            path = values_file_in(argv)
            seen["file"] = stat.S_IMODE(path.stat().st_mode)
            seen["dir"] = stat.S_IMODE(path.parent.stat().st_mode)
            assert sentinel in path.read_text()

    runner.before = look
    helm.dependency_build(chart=charts / "app")
    rendered = helm.template(
        chart=charts / "app",
        release="web",
        namespace="ns1",
        values_files=[],
        values={"image": {"tag": sentinel}},
        output_dir=tmp_path / "out",
    )
    images = [
        m["spec"]["template"]["spec"]["containers"][0]["image"]
        for m in rendered.manifests
        if m["kind"] == "Deployment"
    ]
    assert images == [f"registry.example.com/app:{sentinel}"]  # helm read the file
    assert seen == {"file": 0o600, "dir": 0o700}
    assert not any(sentinel in arg for call in runner.calls for arg in call)
    template_call = next(c for c in runner.calls if "template" in c)
    assert not values_file_in(template_call).exists()
    assert not values_file_in(template_call).parent.exists()


def test_render_failure_is_a_chart_error_without_the_secret(
    helm: HelmBinary, charts: Path, tmp_path: Path, runner: RecordingRunner
) -> None:
    token = "tok-6b1d2e9f0a"
    helm.dependency_build(chart=charts / "app")
    with pytest.raises(ChartError) as info:
        helm.template(
            chart=charts / "app",
            release="web",
            namespace="ns1",
            values_files=[],
            values={"explode": True, "auth": {"token": token}},
            output_dir=tmp_path / "out",
        )
    text = f"{info.value} {getattr(info.value.__cause__, 'output', '')}"
    assert "refusing to render with token" in text
    assert token not in text
    assert "helm lint" in (info.value.hint or "")
    template_call = next(c for c in runner.calls if "template" in c)
    assert not values_file_in(template_call).parent.exists()


def test_missing_chart_says_which_path(helm: HelmBinary, tmp_path: Path, runner: RecordingRunner) -> None:
    with pytest.raises(ChartError) as info:
        helm.template(
            chart=tmp_path / "nochart",
            release="web",
            namespace="ns1",
            values_files=[],
            values={},
            output_dir=tmp_path / "out",
        )
    assert str(tmp_path / "nochart") in info.value.message
    assert "chart.path" in (info.value.hint or "")
    assert "helm lint" in (info.value.hint or "")
    assert runner.calls == []


def test_missing_values_file_is_a_config_error(helm: HelmBinary, charts: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        helm.template(
            chart=charts / "app",
            release="web",
            namespace="ns1",
            values_files=[tmp_path / "nope.yaml"],
            values={},
            output_dir=tmp_path / "out",
        )


def test_dependency_build_runs_only_when_charts_is_stale(
    helm: HelmBinary, charts: Path, runner: RecordingRunner
) -> None:
    app = charts / "app"
    archive = app / "charts/lib-0.1.0.tgz"
    helm.dependency_build(chart=app)
    assert runner.subcommands().count("dependency") == 1
    assert archive.is_file()
    assert (app / "Chart.lock").is_file()
    built = archive.stat().st_mtime_ns

    helm.dependency_build(chart=app)  # a no-op redeploy pays nothing
    assert runner.subcommands().count("dependency") == 1
    assert archive.stat().st_mtime_ns == built

    now = time.time()
    os.utime(archive, (now - 60, now - 60))
    os.utime(charts / "lib/values.yaml", (now - 30, now - 30))  # the local subchart changed since
    assert dependencies_stale(app) is not None
    helm.dependency_build(chart=app)
    assert runner.subcommands().count("dependency") == 2
    assert dependencies_stale(app) is None

    archive.unlink()
    helm.dependency_build(chart=app)
    assert runner.subcommands().count("dependency") == 3


def test_dependency_build_follows_a_version_bump(
    helm: HelmBinary, charts: Path, runner: RecordingRunner
) -> None:
    app = charts / "app"
    helm.dependency_build(chart=app)
    lib_chart = charts / "lib/Chart.yaml"
    lib_chart.write_text(lib_chart.read_text().replace("version: 0.1.0", "version: 0.1.1"))
    for path in (app / "Chart.yaml",):
        path.write_text(
            path.read_text().replace("version: 0.1.0\n    repository", "version: 0.1.1\n    repository")
        )
    assert "locked" in (dependencies_stale(app) or "")
    with pytest.raises(ChartError) as info:  # helm itself insists on an updated Chart.lock
        helm.dependency_build(chart=app)
    assert "helm dependency update" in (info.value.hint or "")


def test_chart_without_dependencies_never_runs_helm(
    helm: HelmBinary, charts: Path, runner: RecordingRunner
) -> None:
    helm.dependency_build(chart=charts / "lib")
    assert runner.calls == []


def test_broken_dependency_is_a_chart_error(helm: HelmBinary, charts: Path) -> None:
    chart_yaml = charts / "app/Chart.yaml"
    chart_yaml.write_text(chart_yaml.read_text().replace("file://../lib", "file://../missing"))
    with pytest.raises(ChartError) as info:
        helm.dependency_build(chart=charts / "app")
    assert "Chart.yaml" in (info.value.hint or "")


def test_render_step_renders_what_explain_shows(helm: HelmBinary, charts: Path, tmp_path: Path) -> None:
    env_file = tmp_path / "values-preview.yaml"
    env_file.write_text("replicaCount: 2\nimage: {pullPolicy: null}\nextraConfigMaps: [only]\n")
    layers = build_layers(
        chart=charts / "app",
        values_files=[env_file],
        injected={"image": {"tag": "abc123"}},
        set_values={"service.port": "8080", "lib.enabled": "false"},
    )
    rendered = render_chart(
        helm=helm,
        chart=charts / "app",
        release="web",
        namespace="ns1",
        layers=layers,
        output_dir=tmp_path / "out",
    )
    seen = values_seen_by_chart(rendered)
    assert seen == explain(layers).merged
    assert seen["service"]["port"] == 8080
    assert "pullPolicy" not in seen["image"]
    assert not any(str(f).endswith("lib/templates/configmap.yaml") for f in rendered.files)


@pytest.fixture
def unreachable(tmp_path: Path) -> KubeTarget:
    """A kubeconfig pointing at a closed port: helm parses every flag, then fails to connect."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "ctx",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return KubeTarget(kubeconfig=str(path), context="ctx")


@pytest.mark.parametrize(("wait", "atomic"), [(True, True), (True, False), (False, True), (False, False)])
def test_each_helm_accepts_the_release_flags(
    helm: HelmBinary, charts: Path, unreachable: KubeTarget, wait: bool, atomic: bool
) -> None:
    """Every flag combination gets past helm's flag parsing to the cluster, without a
    deprecation warning: --atomic on Helm 3, --rollback-on-failure and --wait=<strategy> on Helm 4."""
    helm.dependency_build(chart=charts / "app")
    with pytest.raises(ClusterError) as info:
        helm.upgrade_install(
            chart=charts / "app",
            release="web",
            namespace="ns1",
            values_files=[],
            values={"a": 1},
            wait=wait,
            timeout_seconds=5,
            atomic=atomic,
            target=unreachable,
        )
    assert info.value.retryable
    assert "kubeconfig" in (info.value.hint or "")
    output = getattr(info.value.__cause__, "output", "")
    assert "connection refused" in output
    assert "deprecated" not in output
    assert "unknown flag" not in output


def test_cluster_commands_accept_their_flags(helm: HelmBinary, unreachable: KubeTarget) -> None:
    calls: list[Callable[[], object]] = [
        lambda: helm.status(release="web", namespace="ns1", target=unreachable),
        lambda: helm.history(release="web", namespace="ns1", target=unreachable),
        lambda: helm.rollback(
            release="web", namespace="ns1", revision=1, wait=True, timeout_seconds=5, target=unreachable
        ),
        lambda: helm.uninstall(release="web", namespace="ns1", timeout_seconds=5, target=unreachable),
    ]
    for call in calls:
        with pytest.raises(ClusterError) as info:
            call()
        cause = info.value.__cause__
        assert "deprecated" not in getattr(cause, "output", ""), getattr(cause, "output", "")
        assert "unknown flag" not in str(info.value)
