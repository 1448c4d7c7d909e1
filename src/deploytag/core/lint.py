"""Best-practice lint of a chart's rendered manifests.

Pure: the caller renders the chart (``helm template``), parses the documents
and passes them in, with the ``# Source:`` template path of each when it has
it. Findings say what to change and where (``field`` names containers by
name), so a developer can fix the chart without reading this module. The
rules themselves live in ``lint_rules``; see docs/lint.md for why each exists.

Severity comes from ``lint.severity`` in deploytag.yaml; ``min-replicas`` is
checked only when the caller passes the permanent environment's
``min_replicas``, because previews are meant to be cheap.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Literal

import msgspec

from deploytag.core.config import Severity
from deploytag.core.errors import ConfigError
from deploytag.core.lint_rules import (
    RULES,
    Rule,
    autoscaler_floors,
    check_manifest,
    is_helm_test,
    kind_of,
    name_of,
    namespace_of,
)

__all__ = [
    "RULES",
    "Finding",
    "Rule",
    "effective_severity",
    "has_errors",
    "lint_manifests",
    "summarize",
]

_NO_OVERRIDES: Mapping[str, Severity] = MappingProxyType({})


class Finding(msgspec.Struct, frozen=True):
    rule: str
    severity: Literal["warn", "error"]
    kind: str
    name: str
    namespace: str | None
    field: str  # e.g. spec.template.spec.containers[app].livenessProbe
    message: str  # what to do, and why
    source: str | None  # chart template path, from helm's "# Source:" comment


def effective_severity(overrides: Mapping[str, Severity] = _NO_OVERRIDES) -> dict[str, Severity]:
    """Every rule id -> its severity after ``overrides``; raise ConfigError on an unknown id or level."""
    for rule_id, level in overrides.items():
        if rule_id not in RULES:
            close = difflib.get_close_matches(str(rule_id), list(RULES), n=1)
            guess = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(
                f"lint.severity: unknown rule id {rule_id!r}",
                hint=f"{guess}valid rule ids: {', '.join(RULES)}",
            )
        if level not in ("off", "warn", "error"):
            raise ConfigError(
                f"lint.severity.{rule_id}: unknown severity {level!r}",
                hint="use off, warn or error",
            )
    return {rule_id: overrides.get(rule_id, rule.default) for rule_id, rule in RULES.items()}


def lint_manifests(
    manifests: Sequence[Mapping[str, Any] | None],
    *,
    severity: Mapping[str, Severity] = _NO_OVERRIDES,
    min_replicas: int | None = None,
    sources: Sequence[str | None] | None = None,
) -> list[Finding]:
    """Findings for ``manifests``, sorted by (kind, name, rule, field).

    ``sources[i]`` is the template that rendered ``manifests[i]``. Anything in
    ``manifests`` that is not a mapping (an empty YAML document) is skipped.
    """
    levels = effective_severity(severity)
    if sources is not None and len(sources) != len(manifests):
        # A shifted list would blame the wrong template: worse than no source.
        raise ValueError(f"{len(sources)} sources for {len(manifests)} manifests")
    documents = list(_documents(manifests, sources or [None] * len(manifests)))
    floors = autoscaler_floors(manifest for manifest, _ in documents)

    findings: list[Finding] = []
    for manifest, source in documents:
        for violation in check_manifest(manifest, min_replicas=min_replicas, floors=floors):
            level = levels[violation.rule]
            if level == "off":
                continue
            findings.append(
                Finding(
                    rule=violation.rule,
                    severity=level,
                    kind=kind_of(manifest),
                    name=name_of(manifest),
                    namespace=namespace_of(manifest),
                    field=violation.field,
                    message=violation.message,
                    source=source,
                )
            )
    findings.sort(key=lambda f: (f.kind, f.name, f.rule, f.field))
    return findings


def _documents(
    manifests: Iterable[object], sources: Iterable[str | None]
) -> Iterator[tuple[Mapping[Any, Any], str | None]]:
    for manifest, source in zip(manifests, sources, strict=True):
        if not isinstance(manifest, Mapping) or is_helm_test(manifest):
            continue
        items = manifest.get("items")
        # A template may render a `kind: List`; its items are what gets applied.
        if manifest.get("kind") == "List" and isinstance(items, list):
            for item in items:
                if isinstance(item, Mapping) and not is_helm_test(item):
                    yield item, source
        else:
            yield manifest, source


def summarize(findings: Iterable[Finding]) -> dict[str, int]:
    """Counts per severity, both keys always present: ``{"error": 1, "warn": 3}``."""
    counts = {"error": 0, "warn": 0}
    for finding in findings:
        counts[finding.severity] += 1
    return counts


def has_errors(findings: Iterable[Finding]) -> bool:
    """Whether any finding is at severity error (the CLI then exits with ExitStatus.LINT)."""
    return any(finding.severity == "error" for finding in findings)
