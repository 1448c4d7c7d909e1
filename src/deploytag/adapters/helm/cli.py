"""Talking to the ``helm`` binary: argv flags, values handed over in a private
file, helm's JSON output read back, and its error output sorted into DeployTag's
error families with advice.

Values may hold secrets: they reach helm only through a 0600 file in a 0700
temporary directory (never argv), and string values under secret-looking keys
are listed so the runner scrubs them from any error output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from deploytag.adapters.common.process import INSTALL_HINTS
from deploytag.core.errors import (
    ChartError,
    ClusterError,
    CommandError,
    DeployTagError,
    ReleaseError,
    RetryableClusterError,
    ToolMissingError,
)
from deploytag.core.values import is_secret_key_path
from deploytag.ports.helm import KubeTarget, ReleaseInfo
from deploytag.ports.runner import CommandResult, CommandRunner

_NOT_FOUND = re.compile(r"release: not found", re.IGNORECASE)
_RENDER_FAILED = re.compile(
    r"template: |execution error at|parse error|error converting YAML|unable to build kubernetes objects"
)
_UNREACHABLE = re.compile(
    r"cluster unreachable|connection refused|no such host|i/o timeout|TLS handshake timeout", re.IGNORECASE
)


class HelmRunner:
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


class ReleaseNotFound(ReleaseError):
    """helm said the release does not exist; callers turn this into None/False/[]."""


def classify_error(e: CommandError, *, action: str, release: str, namespace: str) -> DeployTagError:
    """The error family (and the advice) for what helm printed."""
    output = e.output or e.message
    where = f"{release} in namespace {namespace}"
    first = last_line(e)
    if _NOT_FOUND.search(output):
        return ReleaseNotFound(f"release {where} not found", hint="deploy it first")
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


# --------------------------------------------------------------------------- argv and values


@contextmanager
def values_file(values: Mapping[str, Any]) -> Iterator[Path | None]:
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


def secret_strings(values: Mapping[str, Any], parents: tuple[str, ...] = ()) -> list[str]:
    """String values under secret-looking keys, scrubbed from any error output."""
    found: list[str] = []
    for key, value in values.items():
        parts = (*parents, str(key))
        if isinstance(value, Mapping):
            found += secret_strings(value, parts)
        elif isinstance(value, str) and is_secret_key_path(parts):
            found.append(value)
        elif isinstance(value, list) and is_secret_key_path(parts):
            found += [v for v in value if isinstance(v, str)]
    return found


def file_flags(values_files: Iterable[Path], extra: Path | None) -> list[str]:
    flags: list[str] = []
    for path in [*values_files, *([extra] if extra else [])]:
        flags += ["-f", str(path)]
    return flags


def target_flags(target: KubeTarget) -> list[str]:
    flags: list[str] = []
    if target.kubeconfig:
        flags += ["--kubeconfig", target.kubeconfig]
    if target.context:
        flags += ["--kube-context", target.context]
    return flags


def major_version(version: str) -> int:
    match = re.match(r"v?(\d+)\.", version)
    return int(match.group(1)) if match else 0


def last_line(e: CommandError) -> str:
    lines = [line for line in (e.output or "").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error")]
    return (errors or lines or [e.message])[-1].strip()


def json_output(result: CommandResult) -> Any:
    # Helm may print warnings before the document on stdout (deprecated flags, kubeconfig permissions).
    text = result.stdout
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    try:
        return json.loads(text[start:]) if start >= 0 else None
    except json.JSONDecodeError as e:
        raise ReleaseError(
            f"could not read helm's JSON output: {e.msg}", hint="check that helm is version 3 or 4"
        ) from e


def release_from_json(data: Any) -> ReleaseInfo:
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


def history_entry(entry: Mapping[str, Any], *, release: str, namespace: str) -> ReleaseInfo:
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
