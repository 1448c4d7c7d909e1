"""lint_manifests' contract: severity configuration, sources, ordering, summaries, registry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lintfixtures import deployment, good, service

from deploytag.core.config import load_config
from deploytag.core.errors import ConfigError, ExitStatus
from deploytag.core.lint import RULES, Finding, effective_severity, has_errors, lint_manifests, summarize

DOCS = Path(__file__).resolve().parents[2] / "docs" / "lint.md"


def broken() -> list[dict[str, object]]:
    """One Deployment at one replica and without a readinessProbe; one NodePort Service."""
    workload = deployment(replicas=1)
    workload["spec"]["template"]["spec"]["containers"][0].pop("readinessProbe")
    return [workload, service(type="NodePort")]


def test_defaults_are_warn() -> None:
    findings = lint_manifests(broken(), min_replicas=2)
    assert {(f.rule, f.severity) for f in findings} == {
        ("min-replicas", "warn"),
        ("readiness-probe", "warn"),
        ("no-nodeport", "warn"),
    }
    assert not has_errors(findings)
    assert summarize(findings) == {"error": 0, "warn": 3}


def test_severity_overrides() -> None:
    findings = lint_manifests(
        broken(), severity={"min-replicas": "error", "no-nodeport": "off"}, min_replicas=2
    )
    assert {(f.rule, f.severity) for f in findings} == {
        ("min-replicas", "error"),
        ("readiness-probe", "warn"),
    }
    assert has_errors(findings)
    assert summarize(findings) == {"error": 1, "warn": 1}


def test_all_off_means_no_findings() -> None:
    assert lint_manifests(broken(), severity=dict.fromkeys(RULES, "off"), min_replicas=2) == []


def test_unknown_rule_id_is_a_config_error_listing_valid_ids() -> None:
    with pytest.raises(ConfigError) as caught:
        lint_manifests(good(), severity={"min-replica": "error"})
    error = caught.value
    assert "'min-replica'" in error.message
    assert error.hint is not None
    assert "did you mean 'min-replicas'" in error.hint
    assert all(rule_id in error.hint for rule_id in RULES)
    assert error.exit_status is ExitStatus.CONFIG


def test_unknown_severity_level_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="fatal"):
        effective_severity({"min-replicas": "fatal"})  # type: ignore[dict-item]


def test_unknown_rule_id_fails_even_without_manifests() -> None:
    # the CLI validates configuration before rendering anything
    with pytest.raises(ConfigError):
        lint_manifests([], severity={"no-such-rule": "off"})


def test_effective_severity_names_every_rule() -> None:
    assert effective_severity({"run-as-non-root": "off"}) == {
        **dict.fromkeys(RULES, "warn"),
        "run-as-non-root": "off",
    }


def test_severity_from_deploytag_yaml(tmp_path: Path) -> None:
    (tmp_path / "deploytag.yaml").write_text(
        "app: shop\nlint:\n  severity:\n    min-replicas: error\n    run-as-non-root: 'off'\n"
    )
    config = load_config(repo=tmp_path, environ={}).config
    staging = config.branches.permanent["main"]
    workload = deployment(replicas=1)
    workload["spec"]["template"]["spec"].pop("securityContext")
    workload["spec"]["template"]["spec"]["containers"][0].pop("securityContext")
    findings = lint_manifests([workload], severity=config.lint.severity, min_replicas=staging.min_replicas)
    assert [(f.rule, f.severity) for f in findings] == [("min-replicas", "error")]


def test_sources_are_attached_per_manifest() -> None:
    findings = lint_manifests(
        [None, *broken()],
        sources=[None, "shop/templates/deployment.yaml", "shop/templates/service.yaml"],
    )
    assert {(f.kind, f.source) for f in findings} == {
        ("Deployment", "shop/templates/deployment.yaml"),
        ("Service", "shop/templates/service.yaml"),
    }
    assert all(f.source is None for f in lint_manifests(broken()))


def test_sources_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(ValueError, match="1 sources for 2 manifests"):
        lint_manifests(broken(), sources=["shop/templates/deployment.yaml"])


def test_findings_are_sorted_by_kind_name_rule_field() -> None:
    worse = deployment("b-api")
    worse["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "envoy"})
    findings = lint_manifests(
        [service(type="NodePort"), worse, deployment("a-web", replicas=1)], min_replicas=2
    )
    keys = [(f.kind, f.name, f.rule, f.field) for f in findings]
    assert keys == sorted(keys)
    assert keys[0][:3] == ("Deployment", "a-web", "min-replicas")
    assert keys[-1][0] == "Service"


def test_namespace_is_reported() -> None:
    workload = deployment(replicas=1)
    workload["metadata"]["namespace"] = "shop-staging"
    [finding] = lint_manifests([workload], min_replicas=2)
    assert finding == Finding(
        rule="min-replicas",
        severity="warn",
        kind="Deployment",
        name="adservice",
        namespace="shop-staging",
        field="spec.replicas",
        message="set replicas to at least 2 (is 1) so a permanent environment survives losing a pod",
        source=None,
    )


def test_rule_registry() -> None:
    assert len(RULES) == 9
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule_id)
        assert rule.default == "warn"
        assert rule.description
        assert "\n" not in rule.description


def test_docs_describe_every_rule() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for rule_id in RULES:
        assert f"### `{rule_id}`" in text
