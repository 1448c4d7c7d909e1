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

The class is here; calling helm (argv flags, the values file, reading its JSON
and classifying its errors) is in ``cli``, and the files around a call
(dependency freshness, rendered manifests) in ``files``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from deploytag.adapters.helm.cli import (
    HelmRunner,
    ReleaseNotFound,
    classify_error,
    file_flags,
    history_entry,
    json_output,
    last_line,
    major_version,
    release_from_json,
    secret_strings,
    target_flags,
    values_file,
)
from deploytag.adapters.helm.files import (
    RENDER_MARKER,
    check_render_dir,
    dependencies_stale,
    require_chart,
    require_files,
    split_manifests,
    write_manifests,
)
from deploytag.adapters.helm.storage import SecretLabels, newest_revision, uses_secrets
from deploytag.adapters.helm.versioncache import VersionCache
from deploytag.core.errors import ChartError, CommandError, ReleaseError, ToolMissingError
from deploytag.ports.helm import KubeTarget, ReleaseInfo, RenderedChart
from deploytag.ports.runner import CommandResult, CommandRunner

# Re-exported: callers and tests import these from here, where they always lived.
__all__ = [
    "RENDER_MARKER",
    "HelmBinary",
    "WaitStrategy",
    "dependencies_stale",
    "split_manifests",
    "write_manifests",
]

log = logging.getLogger(__name__)

WaitStrategy = Literal["watcher", "legacy"]

# Extra seconds the runner allows beyond helm's own --timeout before it kills helm.
_KILL_MARGIN = 120
_LOCAL_TIMEOUT = 300  # seconds for commands that touch no cluster (template, dependency build)


class HelmBinary:
    """``Helm`` over the binary; ``wait_strategy`` applies to Helm 4 only.

    ``secret_labels`` reads labels of the cluster's Secrets; with it, and Helm's default
    ``secret`` storage (``driver``, the HELM_DRIVER variable), ``head`` reads the newest
    revision from Helm's records instead of starting helm (``storage``).
    """

    def __init__(
        self,
        *,
        runner: CommandRunner,
        binary: str = "helm",
        wait_strategy: WaitStrategy = "watcher",
        secret_labels: SecretLabels | None = None,
        driver: str = "",
        version_cache: VersionCache | None = None,
    ) -> None:
        self._runner: CommandRunner = HelmRunner(runner, binary)
        self._binary = binary
        self._wait_strategy = wait_strategy
        self._version: str | None = None
        self._secret_labels = secret_labels if uses_secrets(driver) else None
        self._version_cache = version_cache

    # ----------------------------------------------------------------- version

    def version(self) -> str:
        if self._version is None:
            cache = self._version_cache
            path = self._runner.which(program=self._binary) if cache is not None else None
            cached = cache.get(path) if cache is not None and path is not None else None
            version = cached or self._ask_version()
            major = major_version(version)
            if major not in (3, 4):
                raise ToolMissingError(
                    f"helm {version or '(unknown version)'} is not supported",
                    hint="install Helm 3 or 4 (https://helm.sh/docs/intro/install/) or run tools/setup.sh",
                )
            if cache is not None and path is not None and cached is None:
                cache.put(path, version)
            self._version = version
            log.debug("helm client %s", version)
        return self._version

    def _ask_version(self) -> str:
        result = self._runner.run(argv=[self._binary, "version", "--template", "{{.Version}}"])
        return result.stdout.strip()

    @property
    def major(self) -> int:
        return major_version(self.version())

    @property
    def binary(self) -> str:
        return self._binary

    # ----------------------------------------------------------------- local

    def dependency_build(self, *, chart: Path) -> None:
        require_chart(chart)
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
                f"helm dependency build {chart} failed: {last_line(e)}",
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
        require_chart(chart)
        require_files(values_files)
        check_render_dir(output_dir)
        with values_file(values) as extra:
            argv = [self._binary, "template", release, str(chart), "--namespace", namespace, "--include-crds"]
            argv += file_flags(values_files, extra)
            try:
                result = self._runner.run(
                    argv=argv, timeout_seconds=_LOCAL_TIMEOUT, secrets=secret_strings(values)
                )
            except CommandError as e:
                lint = " ".join(["helm lint", str(chart), *(f"-f {f}" for f in values_files)])
                raise ChartError(
                    f"helm could not render {chart}: {last_line(e)}",
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
        require_chart(chart)
        require_files(values_files)
        self._recover_pending(
            release=release, namespace=namespace, timeout_seconds=timeout_seconds, target=target
        )
        with values_file(values) as extra:
            # --reset-values: without it an upgrade given no values would silently reuse the last release's.
            argv = [self._binary, "upgrade", release, str(chart), "--install", "--namespace", namespace]
            argv += ["--reset-values", *file_flags(values_files, extra), "--timeout", f"{timeout_seconds}s"]
            argv += ["--output", "json"]
            if wait:
                argv += self._wait_flags()
            if atomic:
                argv.append("--atomic" if self.major == 3 else "--rollback-on-failure")
            argv += target_flags(target)
            log.info("helm upgrade --install %s (%s) in %s", release, chart, namespace)
            result = self._run_release(
                argv,
                action="upgrade",
                release=release,
                namespace=namespace,
                timeout_seconds=timeout_seconds,
                secrets=secret_strings(values),
            )
        info = release_from_json(json_output(result))
        log.info("release %s in %s is at revision %d (%s)", release, namespace, info.revision, info.status)
        return info

    def status(self, *, release: str, namespace: str, target: KubeTarget) -> ReleaseInfo | None:
        argv = [self._binary, "status", release, "--namespace", namespace, "--output", "json"]
        try:
            result = self._run_release(
                [*argv, *target_flags(target)], action="status", release=release, namespace=namespace
            )
        except ReleaseNotFound:
            return None
        return release_from_json(json_output(result))

    def head(self, *, release: str, namespace: str, target: KubeTarget) -> ReleaseInfo | None:
        if self._secret_labels is not None:
            found = newest_revision(self._secret_labels, release=release, namespace=namespace)
            if found is not None:
                return found
        return self.status(release=release, namespace=namespace, target=target)

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
                [*argv, *target_flags(target)], action="history", release=release, namespace=namespace
            )
        except ReleaseNotFound:
            return []
        entries = json_output(result)
        if not isinstance(entries, list):
            raise ReleaseError(f"helm history {release}: unexpected output", hint="check the helm version")
        return sorted(
            (history_entry(e, release=release, namespace=namespace) for e in entries if isinstance(e, dict)),
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
            [*argv, *target_flags(target)],
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
        argv += [*self._wait_flags(), *target_flags(target)]
        log.info("helm uninstall %s in %s", release, namespace)
        try:
            self._run_release(
                argv,
                action="uninstall",
                release=release,
                namespace=namespace,
                timeout_seconds=timeout_seconds,
            )
        except ReleaseNotFound:
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
            raise classify_error(e, action=action, release=release, namespace=namespace) from e
