"""Lint real ``helm template`` output: the chart ``helm create`` scaffolds.

Checks the rules against the shapes Helm really prints (quoted images,
``resources: {}``, a test hook Pod) rather than hand-written dicts, and that
``# Source:`` paths reach the findings.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploytag.core.lint import lint_manifests

pytestmark = pytest.mark.helm

_SOURCE = re.compile(r"^# Source: (.+)$", re.MULTILINE)


def render(helm: Path, chart: Path, *args: str) -> tuple[list[Any], list[str | None]]:
    out = subprocess.run(
        [str(helm), "template", "shop", str(chart), *args], check=True, capture_output=True, text=True
    ).stdout
    manifests: list[Any] = []
    sources: list[str | None] = []
    for chunk in re.split(r"^---\s*$", out, flags=re.MULTILINE):
        if not chunk.strip():
            continue
        match = _SOURCE.search(chunk)
        manifests.append(yaml.safe_load(chunk))
        sources.append(match.group(1) if match else None)
    return manifests, sources


@pytest.fixture
def chart(helm_bin: Path, tmp_path: Path) -> Path:
    subprocess.run([str(helm_bin), "create", "shop"], cwd=tmp_path, check=True, capture_output=True)
    return tmp_path / "shop"


def test_scaffolded_chart(helm_bin: Path, chart: Path) -> None:
    manifests, sources = render(helm_bin, chart)
    findings = lint_manifests(manifests, sources=sources, min_replicas=2)
    app = "spec.template.spec.containers[shop]"
    # The scaffold pins its image (appVersion) and has probes and labels, but
    # leaves resources and securityContext empty and runs one replica; its
    # test-connection Pod (busybox, unpinned) is a helm test hook and skipped.
    assert [(f.kind, f.name, f.rule, f.field, f.source) for f in findings] == [
        ("Deployment", "shop", "min-replicas", "spec.replicas", "shop/templates/deployment.yaml"),
        (
            "Deployment",
            "shop",
            "resource-limits",
            f"{app}.resources.limits",
            "shop/templates/deployment.yaml",
        ),
        (
            "Deployment",
            "shop",
            "resource-requests",
            f"{app}.resources.requests",
            "shop/templates/deployment.yaml",
        ),
        (
            "Deployment",
            "shop",
            "run-as-non-root",
            f"{app}.securityContext.runAsNonRoot",
            "shop/templates/deployment.yaml",
        ),
    ]


def test_scaffolded_chart_with_everything_set(helm_bin: Path, chart: Path) -> None:
    values = chart / "production.yaml"
    values.write_text(
        yaml.safe_dump(
            {
                "image": {"tag": "1.27.0"},
                "resources": {
                    "requests": {"cpu": "100m", "memory": "128Mi"},
                    "limits": {"cpu": "500m", "memory": "256Mi"},
                },
                "securityContext": {"runAsNonRoot": True, "runAsUser": 101},
                "autoscaling": {"enabled": True, "minReplicas": 2},
                "service": {"type": "LoadBalancer"},
            }
        )
    )
    manifests, sources = render(helm_bin, chart, "-f", str(values))
    assert lint_manifests(manifests, sources=sources, min_replicas=2) == []

    manifests, sources = render(helm_bin, chart, "-f", str(values), "--set", "service.type=NodePort")
    [finding] = lint_manifests(manifests, sources=sources, min_replicas=2)
    assert (finding.rule, finding.field, finding.source) == (
        "no-nodeport",
        "spec.type",
        "shop/templates/service.yaml",
    )
