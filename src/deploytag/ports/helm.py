"""The Helm port: the chart operations DeployTag needs, over the real binary.

Values that may hold secrets are passed as mappings and written by the adapter
to a 0600 file that is removed afterwards; they never reach argv.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import msgspec


class KubeTarget(msgspec.Struct, frozen=True):
    """Which cluster helm talks to; None fields mean helm's own defaults."""

    kubeconfig: str | None = None
    context: str | None = None


class ReleaseInfo(msgspec.Struct, frozen=True):
    name: str
    namespace: str
    revision: int
    status: str  # deployed, failed, pending-install, pending-upgrade, pending-rollback, ...
    chart: str = ""  # name-version
    app_version: str = ""
    updated: str = ""
    description: str = ""

    @property
    def pending(self) -> bool:
        return self.status.startswith("pending-")


class RenderedChart(msgspec.Struct, frozen=True):
    """`helm template` output split into one file per manifest under ``directory``."""

    directory: Path
    files: Sequence[Path]
    manifests: Sequence[Mapping[str, Any]]  # parsed documents, in order
    sources: Sequence[Path] = ()  # the file each manifest was written to, parallel to ``manifests``


class Helm(Protocol):
    def version(self) -> str:
        """The helm client version, e.g. "v3.18.0"; raises ToolMissingError if absent."""
        ...

    def dependency_build(self, *, chart: Path) -> None:
        """`helm dependency build`, skipped when charts/ is already current."""
        ...

    def template(
        self,
        *,
        chart: Path,
        release: str,
        namespace: str,
        values_files: Sequence[Path],
        values: Mapping[str, Any],
        output_dir: Path,
    ) -> RenderedChart: ...

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
    ) -> ReleaseInfo: ...

    def status(self, *, release: str, namespace: str, target: KubeTarget) -> ReleaseInfo | None:
        """The latest revision, or None when no such release exists."""
        ...

    def head(self, *, release: str, namespace: str, target: KubeTarget) -> ReleaseInfo | None:
        """The latest revision's number and status as ``status`` reports them (other fields may be
        empty), or None: what a no-op check needs, at less cost where the adapter can manage it."""
        ...

    def history(self, *, release: str, namespace: str, target: KubeTarget) -> list[ReleaseInfo]: ...

    def rollback(
        self,
        *,
        release: str,
        namespace: str,
        revision: int | None,
        wait: bool,
        timeout_seconds: int,
        target: KubeTarget,
    ) -> None: ...

    def uninstall(self, *, release: str, namespace: str, timeout_seconds: int, target: KubeTarget) -> bool:
        """True if a release was removed, False if there was none."""
        ...
