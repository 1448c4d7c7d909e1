"""Helpers for the Helm tests: a runner that records what it ran while the real
SubprocessRunner does the running, and the values the test chart saw."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from deploytag.adapters.common.process import SubprocessRunner
from deploytag.ports.helm import RenderedChart
from deploytag.ports.runner import CommandResult

CHARTS = Path(__file__).parent / "charts"


@dataclass
class RecordingRunner:
    """Delegates to SubprocessRunner and keeps every argv; ``before`` sees each argv
    just before helm starts (to look at the values file while it exists)."""

    inner: SubprocessRunner = field(default_factory=SubprocessRunner)
    calls: list[list[str]] = field(default_factory=list)
    before: Callable[[Sequence[str]], None] | None = None

    def which(self, *, program: str) -> str | None:
        return self.inner.which(program=program)

    def run(
        self,
        *,
        argv: Sequence[str],
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout_seconds: float | None = None,
        check: bool = True,
        secrets: Sequence[str] = (),
    ) -> CommandResult:
        self.calls.append(list(argv))
        if self.before is not None:
            self.before(argv)
        return self.inner.run(
            argv=argv, cwd=cwd, env=env, timeout_seconds=timeout_seconds, check=check, secrets=secrets
        )

    def subcommands(self) -> list[str]:
        """``["version", "template", ...]``: what helm was asked to do, in order."""
        return [" ".join(a for a in call[1:3] if not a.startswith("-")).split(" ")[0] for call in self.calls]


def values_seen_by_chart(rendered: RenderedChart) -> dict[str, Any]:
    """The app chart's ``{{ toYaml .Values }}`` ConfigMap, parsed."""
    for manifest in rendered.manifests:
        if manifest.get("kind") == "ConfigMap" and str(manifest["metadata"]["name"]).endswith("-values"):
            data = yaml.safe_load(manifest["data"]["values.yaml"])
            return data if isinstance(data, dict) else {}
    raise AssertionError("the chart rendered no values ConfigMap")
