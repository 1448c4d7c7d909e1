"""The Helm port over the real ``helm`` binary, Helm 3 and Helm 4.

Every call goes through the CommandRunner. Values passed as a mapping may hold
secrets, so they are written to a 0600 file in a private temporary directory,
given to helm with ``-f`` and removed afterwards; they never reach argv.

Helm 3 and 4 differ in the flags DeployTag uses (checked with ``helm <cmd> --help``
of 3.18 and 4.1):

- ``--wait`` is a boolean in Helm 3; in Helm 4 it takes a strategy (``watcher``,
  the kstatus-based default of a bare ``--wait``, or ``legacy``, Helm 3's polling),
  and without it Helm 4 still waits for hooks (``hookOnly``).
- ``--atomic`` is deprecated in Helm 4 in favour of ``--rollback-on-failure``.
- rollback and uninstall take ``--wait`` in both, with the same difference.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml

from deploytag.adapters.process import INSTALL_HINTS
from deploytag.core import yamlio
from deploytag.core.errors import (
    ChartError,
    ClusterError,
    CommandError,
    ConfigError,
    DeployTagError,
    ReleaseError,
    RetryableClusterError,
    ToolMissingError,
)
from deploytag.core.values import is_secret_key_path
from deploytag.ports.helm import KubeTarget, ReleaseInfo, RenderedChart
from deploytag.ports.runner import CommandResult, CommandRunner

log = logging.getLogger(__name__)

WaitStrategy = Literal["watcher", "legacy"]

# Marks a directory written by ``template`` so that clearing it never deletes anything else.
RENDER_MARKER = ".deploytag-rendered"
_UNSOURCED = "unsourced.yaml"
# Extra seconds the runner allows beyond helm's own --timeout before it kills helm.
_KILL_MARGIN = 120
_LOCAL_TIMEOUT = 300  # seconds for commands that touch no cluster (template, dependency build)
_NOT_FOUND = re.compile(r"release: not found", re.IGNORECASE)
_RENDER_FAILED = re.compile(
    r"template: |execution error at|parse error|error converting YAML|unable to build kubernetes objects"
)
_UNREACHABLE = re.compile(
    r"cluster unreachable|connection refused|no such host|i/o timeout|TLS handshake timeout", re.IGNORECASE
)


class HelmBinary:
    """``Helm`` over the binary; ``wait_strategy`` applies to Helm 4 only."""

    def __init__(
        self, *, runner: CommandRunner, binary: str = "helm", wait_strategy: WaitStrategy = "watcher"
    ) -> None:
        self._runner: CommandRunner = _HelmRunner(runner, binary)
        self._binary = binary
        self._wait_strategy = wait_strategy
        self._version: str | None = None

    # ----------------------------------------------------------------- version

    def version(self) -> str:
        if self._version is None:
            result = self._runner.run(argv=[self._binary, "version", "--template", "{{.Version}}"])
            version = result.stdout.strip()
            major = _major(version)
            if major not in (3, 4):
                raise ToolMissingError(
                    f"helm {version or '(unknown version)'} is not supported",
                    hint="install Helm 3 or 4 (https://helm.sh/docs/intro/install/) or run tools/setup.sh",
                )
            self._version = version
            log.debug("helm client %s", version)
        return self._version

    @property
    def major(self) -> int:
        return _major(self.version())

    @property
    def binary(self) -> str:
        return self._binary

    # ----------------------------------------------------------------- local

    def dependency_build(self, *, chart: Path) -> None:
        _require_chart(chart)
        reason = dependencies_stale(chart)
        if reason is None:
            log.debug("dependencies of %s are current; not running helm dependency build", chart)
            return
        log.info("helm dependency build %s: %s", chart, reason)
        try:
            self._runner.run(
                argv=[self._binary, "dependency", "build", str(chart)], timeout_seconds=_LOCAL_TIMEOUT
            )
        except CommandError as e:
            out_of_sync = "out of sync" in e.output
            raise ChartError(
                f"helm dependency build {chart} failed: {_last_line(e)}",
                hint=(
                    f"Chart.lock no longer matches Chart.yaml: run `helm dependency update {chart}` and commit Chart.lock"
                    if out_of_sync
                    else f"check the dependencies in {chart}/Chart.yaml (name, version, repository), "
                    f"then run `helm dependency update {chart}`"
                ),
            ) from e

    def template(
        self,
        *,
        chart: Path,
        release: str,
        namespace: str,
        values_files: Sequence[Path],
        values: Mapping[str, Any],
        output_dir: Path,
    ) -> RenderedChart:
        _require_chart(chart)
        _require_files(values_files)
        _check_render_dir(output_dir)
        with _values_file(values) as extra:
            argv = [self._binary, "template", release, str(chart), "--namespace", namespace, "--include-crds"]
            argv += _file_flags(values_files, extra)
            try:
                result = self._runner.run(
                    argv=argv, timeout_seconds=_LOCAL_TIMEOUT, secrets=_secret_strings(values)
                )
            except CommandError as e:
                lint = " ".join(["helm lint", str(chart), *(f"-f {f}" for f in values_files)])
                raise ChartError(
                    f"helm could not render {chart}: {_last_line(e)}",
                    hint=f"run `{lint}` to see every problem in the chart",
                ) from e
        log.info("rendered %s as release %s in %s", chart, release, namespace)
        return write_manifests(result.stdout, output_dir)

    # ----------------------------------------------------------------- cluster

    def upgrade_install(
        self,
        *,
        chart: Path,
        release: str,
        namespace: str,
        values_files: Sequence[Path],
        values: Mapping[str, Any],
        wait: bool,
        timeout_seconds: int,
        atomic: bool,
        target: KubeTarget,
    ) -> ReleaseInfo:
        _require_chart(chart)
        _require_files(values_files)
        self._recover_pending(
            release=release, namespace=namespace, timeout_seconds=timeout_seconds, target=target
        )
        with _values_file(values) as extra:
            # --reset-values: without it an upgrade given no values would silently reuse the last release's.
            argv = [self._binary, "upgrade", release, str(chart), "--install", "--namespace", namespace]
            argv += ["--reset-values", *_file_flags(values_files, extra), "--timeout", f"{timeout_seconds}s"]
            argv += ["--output", "json"]
            if wait:
                argv += self._wait_flags()
            if atomic:
                argv.append("--atomic" if self.major == 3 else "--rollback-on-failure")
            argv += _target_flags(target)
            log.info("helm upgrade --install %s (%s) in %s", release, chart, namespace)
            result = self._run_release(
                argv,
                action="upgrade",
                release=release,
                namespace=namespace,
                timeout_seconds=timeout_seconds,
                secrets=_secret_strings(values),
            )
        info = _release_from_json(_json_output(result))
        log.info("release %s in %s is at revision %d (%s)", release, namespace, info.revision, info.status)
        return info

    def status(self, *, release: str, namespace: str, target: KubeTarget) -> ReleaseInfo | None:
        argv = [self._binary, "status", release, "--namespace", namespace, "--output", "json"]
        try:
            result = self._run_release(
                [*argv, *_target_flags(target)], action="status", release=release, namespace=namespace
            )
        except _NotFound:
            return None
        return _release_from_json(_json_output(result))

    def history(self, *, release: str, namespace: str, target: KubeTarget) -> list[ReleaseInfo]:
        argv = [
            self._binary,
            "history",
            release,
            "--namespace",
            namespace,
            "--output",
            "json",
            "--max",
            "256",
        ]
        try:
            result = self._run_release(
                [*argv, *_target_flags(target)], action="history", release=release, namespace=namespace
            )
        except _NotFound:
            return []
        entries = _json_output(result)
        if not isinstance(entries, list):
            raise ReleaseError(f"helm history {release}: unexpected output", hint="check the helm version")
        return sorted(
            (_history_entry(e, release=release, namespace=namespace) for e in entries if isinstance(e, dict)),
            key=lambda r: r.revision,
        )

    def rollback(
        self,
        *,
        release: str,
        namespace: str,
        revision: int | None,
        wait: bool,
        timeout_seconds: int,
        target: KubeTarget,
    ) -> None:
        argv = [self._binary, "rollback", release, *([str(revision)] if revision is not None else [])]
        argv += ["--namespace", namespace, "--timeout", f"{timeout_seconds}s"]
        if wait:
            argv += self._wait_flags()
        log.info("helm rollback %s in %s to revision %s", release, namespace, revision or "previous")
        self._run_release(
            [*argv, *_target_flags(target)],
            action="rollback",
            release=release,
            namespace=namespace,
            timeout_seconds=timeout_seconds,
        )

    def uninstall(self, *, release: str, namespace: str, timeout_seconds: int, target: KubeTarget) -> bool:
        # --wait: teardown reports what it verified gone, so wait for the resources to go.
        argv = [
            self._binary,
            "uninstall",
            release,
            "--namespace",
            namespace,
            "--timeout",
            f"{timeout_seconds}s",
        ]
        argv += [*self._wait_flags(), *_target_flags(target)]
        log.info("helm uninstall %s in %s", release, namespace)
        try:
            self._run_release(
                argv,
                action="uninstall",
                release=release,
                namespace=namespace,
                timeout_seconds=timeout_seconds,
            )
        except _NotFound:
            return False
        return True

    # ----------------------------------------------------------------- internals

    def _wait_flags(self) -> list[str]:
        return ["--wait"] if self.major == 3 else [f"--wait={self._wait_strategy}"]

    def _recover_pending(
        self, *, release: str, namespace: str, timeout_seconds: int, target: KubeTarget
    ) -> None:
        """Unstick a release a killed run left pending, which helm would otherwise refuse
        ("another operation is in progress"). Callers hold the environment's Lease, so a
        pending release is a dead run's, never a live one's."""
        current = self.status(release=release, namespace=namespace, target=target)
        if current is None or not current.pending:
            return
        history = self.history(release=release, namespace=namespace, target=target)
        earlier = [h for h in history if h.revision < current.revision]
        good = [h.revision for h in earlier if h.status == "deployed"] or [
            h.revision for h in earlier if h.status == "superseded"
        ]
        log.warning(
            "release %s in %s is stuck in %s at revision %d, left by a killed run; recovering",
            release,
            namespace,
            current.status,
            current.revision,
        )
        if good:
            revision = max(good)
        elif current.status != "pending-install" and current.revision > 1:
            revision = current.revision - 1  # what Helm's docs suggest when nothing is marked deployed
        else:
            # Never deployed: nothing to roll back to, so start again from nothing.
            self.uninstall(
                release=release, namespace=namespace, timeout_seconds=timeout_seconds, target=target
            )
            return
        self.rollback(
            release=release,
            namespace=namespace,
            revision=revision,
            wait=False,
            timeout_seconds=timeout_seconds,
            target=target,
        )

    def _run_release(
        self,
        argv: list[str],
        *,
        action: str,
        release: str,
        namespace: str,
        timeout_seconds: int = 60,
        secrets: Sequence[str] = (),
    ) -> CommandResult:
        try:
            return self._runner.run(
                argv=argv, timeout_seconds=timeout_seconds + _KILL_MARGIN, secrets=secrets
            )
        except CommandError as e:
            raise _classify(e, action=action, release=release, namespace=namespace) from e


class _HelmRunner:
    """The runner, saying "helm" and how to install it when the configured binary is missing
    (tools.helm may be any path, so the runner alone cannot know which tool it is)."""

    def __init__(self, runner: CommandRunner, binary: str) -> None:
        self._runner = runner
        self._binary = binary

    def which(self, *, program: str) -> str | None:
        return self._runner.which(program=program)

    def run(self, **kwargs: Any) -> CommandResult:
        try:
            return self._runner.run(**kwargs)
        except ToolMissingError as e:
            raise ToolMissingError(
                f"helm ({self._binary}) is not installed or not on PATH", hint=INSTALL_HINTS["helm"]
            ) from e


class _NotFound(ReleaseError):
    """helm said the release does not exist; callers turn this into None/False/[]."""


def _classify(e: CommandError, *, action: str, release: str, namespace: str) -> DeployTagError:
    """The error family (and the advice) for what helm printed."""
    output = e.output or e.message
    where = f"{release} in namespace {namespace}"
    first = _last_line(e)
    if _NOT_FOUND.search(output):
        return _NotFound(f"release {where} not found", hint="deploy it first")
    if _UNREACHABLE.search(output):
        return RetryableClusterError(
            f"helm {action} {where}: cluster unreachable: {first}",
            hint="check the kubeconfig and context (cluster.kubeconfig, cluster.context) and that the API server is up",
        )
    if "exceeded quota" in output:
        return ReleaseError(
            f"helm {action} {where}: the namespace's ResourceQuota refused it: {first}",
            hint="lower the chart's requests/limits for this environment or raise cluster.quota.hard",
        )
    if re.search(
        r"Unauthorized|forbidden: User|cannot (get|list|create|patch|update|delete) resource", output
    ):
        return ClusterError(
            f"helm {action} {where}: access denied: {first}",
            hint="the kubeconfig's user needs rights to manage this namespace (and its Secrets, where helm keeps releases)",
        )
    if _RENDER_FAILED.search(output):
        return ChartError(
            f"helm {action} {where}: the chart did not render: {first}",
            hint="run `deploytag render` and `helm lint` on the chart to see the problem",
        )
    if "another operation" in output and "in progress" in output:
        hint = (
            "another run may still be deploying it; if none is, a killed run left it pending: "
            f"deploy again (it recovers the release first) or `helm rollback {release} -n {namespace}`"
        )
    elif re.search(r"timed out|deadline exceeded", output, re.IGNORECASE):
        hint = (
            f"the resources did not become ready in time: look at `kubectl get events -n {namespace}` "
            "and the pods' logs, or raise chart.timeout_seconds"
        )
    else:
        hint = f"see `helm history {release} -n {namespace}`; `helm rollback` returns to the last deployed revision"
    return ReleaseError(f"helm {action} {where} failed: {first}", hint=hint)


# --------------------------------------------------------------------------- dependencies


def dependencies_stale(chart: Path) -> str | None:
    """Why ``helm dependency build`` must run, or None when charts/ already holds every
    dependency: archives named by the lock file's versions, and archives of local
    (``file://``) dependencies newer than every file of their source."""
    meta = _yaml_file(chart / "Chart.yaml")
    lock_file = chart / "Chart.lock"
    deps = meta.get("dependencies")
    if not deps:
        deps = _yaml_file(chart / "requirements.yaml").get("dependencies")
        lock_file = chart / "requirements.lock"
    deps = [d for d in deps or [] if isinstance(d, dict)]
    fetched = [d for d in deps if d.get("repository")]
    for dep in deps:
        if not dep.get("repository"):
            # Vendored by hand: helm cannot fetch it, so only its presence matters.
            reason = _archive_stale(chart, name=str(dep.get("name", "")), repository="", version="")
            if reason:
                return reason
    if not fetched:
        return None
    if not lock_file.is_file():
        return f"{lock_file.name} is missing"
    unused = [e for e in _yaml_file(lock_file).get("dependencies") or [] if isinstance(e, dict)]
    for dep in fetched:
        name, repository = str(dep.get("name", "")), str(dep.get("repository"))
        lock = next((e for e in unused if e.get("name") == name and e.get("repository") == repository), None)
        if lock is None:
            return f"{lock_file.name} does not list {name} from {repository}"
        unused.remove(lock)
        wanted = str(dep.get("version", ""))
        if _EXACT_VERSION.match(wanted) and wanted.lstrip("v") != str(lock.get("version", "")).lstrip("v"):
            return f"{name} {wanted} is locked at {lock.get('version')}"
        reason = _archive_stale(chart, name=name, repository=repository, version=str(lock.get("version", "")))
        if reason:
            return reason
    return None


_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$")


def _archive_stale(chart: Path, *, name: str, repository: str, version: str) -> str | None:
    charts = chart / "charts"
    if repository.startswith("file://"):
        source = (chart / repository[len("file://") :]).resolve()
        local_version = _yaml_file(source / "Chart.yaml").get("version")
        archive = charts / f"{name}-{local_version}.tgz"
        if not archive.is_file():
            return f"charts/{archive.name} is missing"
        if _newest_mtime(source) > archive.stat().st_mtime:
            return f"{source} changed since charts/{archive.name} was built"
        return None
    if not repository:
        # No repository: the chart must be vendored in charts/ already; helm cannot fetch it.
        present = (charts / name / "Chart.yaml").is_file() or any(charts.glob(f"{name}-*.tgz"))
        return None if present else f"charts/{name} is missing"
    vendored = _yaml_file(charts / name / "Chart.yaml").get("version")
    if (charts / f"{name}-{version}.tgz").is_file() or str(vendored) == version:
        return None
    return f"charts/{name}-{version}.tgz is missing"


def _newest_mtime(directory: Path) -> float:
    newest = 0.0
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in [*files, *dirs]:
            try:
                newest = max(newest, os.stat(os.path.join(root, name)).st_mtime)
            except FileNotFoundError:
                continue
    return newest


def _yaml_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except (OSError, yaml.YAMLError) as e:
        raise ChartError(
            f"cannot read {path}: {e}", hint=f"fix it, then run `helm lint {path.parent}`"
        ) from e
    return data if isinstance(data, dict) else {}


# --------------------------------------------------------------------------- rendering output


def split_manifests(text: str) -> list[tuple[str, str]]:
    """``helm template`` output as (source path, document) pairs, in order."""
    docs: list[tuple[str, str]] = []
    for doc in re.split(r"^---[ \t]*$", text, flags=re.MULTILINE):
        if not doc.strip():
            continue
        match = re.search(r"^# Source: (.+?)\s*$", doc, flags=re.MULTILINE)
        docs.append((match.group(1) if match else _UNSOURCED, doc.strip("\n") + "\n"))
    return docs


def write_manifests(text: str, output_dir: Path) -> RenderedChart:
    """One file per template under ``output_dir`` (``<chart>/templates/x.yaml``),
    documents from the same template appended to one file; the directory is
    cleared of a previous render first."""
    _clear_render_dir(output_dir)
    files: list[Path] = []
    manifests: list[Mapping[str, Any]] = []
    sources: list[Path] = []
    for source, doc in split_manifests(text):
        try:
            # libyaml's parser when present: a chart's output is parsed on every plan and deploy.
            parsed = [m for m in yamlio.load_all(doc) if m is not None]
        except yaml.YAMLError as e:
            raise ChartError(
                f"{source} rendered invalid YAML: {e}", hint="run `helm lint` on the chart"
            ) from e
        if not parsed:
            continue
        path = output_dir / _safe_relative(source)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path in files:
            with path.open("a", encoding="utf-8") as f:
                f.write("---\n" + doc)
        else:
            path.write_text(doc, encoding="utf-8")
            files.append(path)
        kept = [m for m in parsed if isinstance(m, Mapping)]
        manifests.extend(kept)
        sources.extend([path] * len(kept))
    return RenderedChart(directory=output_dir, files=files, manifests=manifests, sources=sources)


def _check_render_dir(output_dir: Path) -> list[Path]:
    """What a render may clear from ``output_dir``: only a previous render's files."""
    if not output_dir.exists():
        return []
    if not output_dir.is_dir():
        raise ChartError(f"{output_dir} is not a directory", hint="choose another output directory")
    contents = list(output_dir.iterdir())
    if contents and not (output_dir / RENDER_MARKER).is_file():
        raise ChartError(
            f"refusing to clear {output_dir}: it holds files deploytag render did not write",
            hint="render into an empty or new directory",
        )
    return contents


def _clear_render_dir(output_dir: Path) -> None:
    if output_dir.exists():
        for entry in _check_render_dir(output_dir):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / RENDER_MARKER).write_text("written by deploytag render; cleared on every render\n")


def _safe_relative(source: str) -> PurePosixPath:
    path = PurePosixPath(source)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ChartError(
            f"helm reported an unexpected source path {source!r}", hint="check the chart's templates"
        )
    return path


# --------------------------------------------------------------------------- helpers


@contextmanager
def _values_file(values: Mapping[str, Any]) -> Iterator[Path | None]:
    """A 0600 values file in a private (0700) directory, removed however we leave."""
    if not values:
        yield None
        return
    directory = tempfile.mkdtemp(prefix="deploytag-values-")
    try:
        try:
            text = yaml.safe_dump(dict(values), sort_keys=False)
        except yaml.YAMLError:
            # The exception text can quote a value, which may be a secret.
            raise ChartError(
                "the values DeployTag passes to helm cannot be written as YAML",
                hint="values must be mappings, lists, strings, numbers, booleans or null",
            ) from None
        path = Path(directory) / "values.yaml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _secret_strings(values: Mapping[str, Any], parents: tuple[str, ...] = ()) -> list[str]:
    """String values under secret-looking keys, scrubbed from any error output."""
    found: list[str] = []
    for key, value in values.items():
        parts = (*parents, str(key))
        if isinstance(value, Mapping):
            found += _secret_strings(value, parts)
        elif isinstance(value, str) and is_secret_key_path(parts):
            found.append(value)
        elif isinstance(value, list) and is_secret_key_path(parts):
            found += [v for v in value if isinstance(v, str)]
    return found


def _file_flags(values_files: Iterable[Path], extra: Path | None) -> list[str]:
    flags: list[str] = []
    for path in [*values_files, *([extra] if extra else [])]:
        flags += ["-f", str(path)]
    return flags


def _target_flags(target: KubeTarget) -> list[str]:
    flags: list[str] = []
    if target.kubeconfig:
        flags += ["--kubeconfig", target.kubeconfig]
    if target.context:
        flags += ["--kube-context", target.context]
    return flags


def _require_chart(chart: Path) -> None:
    if not (chart / "Chart.yaml").is_file():
        raise ChartError(
            f"no chart at {chart}: Chart.yaml is missing",
            hint="set chart.path in deploytag.yaml to the directory holding Chart.yaml, then run `helm lint` on it",
        )


def _require_files(paths: Iterable[Path]) -> None:
    for path in paths:
        if not path.is_file():
            raise ConfigError(
                f"values file {path} not found",
                hint="check chart.values and chart.environments in deploytag.yaml",
            )


def _major(version: str) -> int:
    match = re.match(r"v?(\d+)\.", version)
    return int(match.group(1)) if match else 0


def _last_line(e: CommandError) -> str:
    lines = [line for line in (e.output or "").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error")]
    return (errors or lines or [e.message])[-1].strip()


def _json_output(result: CommandResult) -> Any:
    # Helm may print warnings before the document on stdout (deprecated flags, kubeconfig permissions).
    text = result.stdout
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    try:
        return json.loads(text[start:]) if start >= 0 else None
    except json.JSONDecodeError as e:
        raise ReleaseError(
            f"could not read helm's JSON output: {e.msg}", hint="check that helm is version 3 or 4"
        ) from e


def _release_from_json(data: Any) -> ReleaseInfo:
    if not isinstance(data, dict):
        raise ReleaseError("helm printed no release", hint="check that helm is version 3 or 4")
    info = data.get("info") or {}
    meta = (data.get("chart") or {}).get("metadata") or {}
    chart = f"{meta.get('name', '')}-{meta.get('version', '')}" if meta else ""
    return ReleaseInfo(
        name=str(data.get("name", "")),
        namespace=str(data.get("namespace", "")),
        revision=int(data.get("version", 0)),
        status=str(info.get("status", "")),
        chart=chart,
        app_version=str(meta.get("appVersion", "") or ""),
        updated=str(info.get("last_deployed", "") or ""),
        description=str(info.get("description", "") or ""),
    )


def _history_entry(entry: Mapping[str, Any], *, release: str, namespace: str) -> ReleaseInfo:
    return ReleaseInfo(
        name=release,
        namespace=namespace,
        revision=int(entry.get("revision", 0)),
        status=str(entry.get("status", "")),
        chart=str(entry.get("chart", "") or ""),
        app_version=str(entry.get("app_version", "") or ""),
        updated=str(entry.get("updated", "") or ""),
        description=str(entry.get("description", "") or ""),
    )
