"""Linting never raises on whatever a chart renders.

Broken templates produce odd shapes (``containers: null``, a string where a
mapping belongs, no ``spec``); the API server rejects those, the linter must
not crash on them. Two strategies: free-form trees over the keys the rules
read, and trees shaped like real workloads with any level swapped for junk, so
the deep paths (a CronJob's containers) are actually reached.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploytag.core.lint import RULES, lint_manifests, summarize

KINDS = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"]
# Every key a rule reads, so free-form trees hit the rules' lookups.
KEYS = [
    "kind", "metadata", "name", "namespace", "labels", "annotations", "spec", "template", "jobTemplate",
    "containers", "initContainers", "image", "livenessProbe", "readinessProbe", "httpGet", "exec",
    "resources", "requests", "limits", "cpu", "memory", "securityContext", "runAsNonRoot", "runAsUser",
    "type", "ports", "nodePort", "replicas", "minReplicas", "scaleTargetRef", "restartPolicy", "items",
    "helm.sh/hook", "app.kubernetes.io/name", "app.kubernetes.io/instance",
]  # fmt: skip
WORDS = [*KINDS, "Service", "HorizontalPodAutoscaler", "List", "NodePort", "Always", "test", "nginx:latest"]

scalars = st.none() | st.booleans() | st.integers(-2, 70000) | st.text(max_size=12) | st.sampled_from(WORDS)
junk = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner)
    ),
    max_leaves=12,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually ``strategy``, one time in eight junk: deep paths stay reachable."""
    return st.integers(0, 7).flatmap(lambda n: junk if n == 0 else strategy)


def fields(**entries: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A mapping with these keys, each maybe junk; sometimes keys are missing or it is junk itself."""
    full = st.fixed_dictionaries({key: maybe(value) for key, value in entries.items()})
    sparse = st.fixed_dictionaries({}, optional={key: maybe(value) for key, value in entries.items()})
    return st.integers(0, 7).flatmap(lambda n: junk if n == 0 else sparse if n == 1 else full)


security = fields(runAsNonRoot=st.booleans(), runAsUser=st.integers(-1, 2000))
resources = fields(requests=fields(cpu=scalars, memory=scalars), limits=fields(cpu=scalars, memory=scalars))
container = fields(
    name=st.text(max_size=6),
    image=st.sampled_from(["nginx", "nginx:1.2", "r:5000/a", "a@sha256:" + "0" * 64, "a:"]),
    livenessProbe=fields(httpGet=fields(port=scalars), exec=junk),
    readinessProbe=fields(tcpSocket=fields(port=scalars)),
    resources=resources,
    securityContext=security,
)
pod_spec = fields(
    containers=st.lists(container, max_size=3),
    initContainers=st.lists(container, max_size=2),
    securityContext=security,
    restartPolicy=st.sampled_from(["Always", "Never", "OnFailure"]),
)
metadata = fields(
    name=st.text(max_size=6),
    namespace=st.sampled_from(["a", "b", ""]),
    labels=st.dictionaries(st.sampled_from(KEYS), scalars, max_size=3),
    annotations=fields(
        **{
            "helm.sh/hook": st.sampled_from(
                ["pre-install", "post-upgrade", "pre-delete", "x", "test", "test-success, x"]
            )
        }
    ),
)
template = fields(metadata=metadata, spec=pod_spec)
workload = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(KINDS),
        "metadata": metadata,
        "spec": fields(
            replicas=st.integers(-1, 3) | st.none(),
            template=template,
            jobTemplate=fields(spec=fields(template=template)),
            containers=st.lists(container, max_size=2),
        ),
    },
)
other = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["Service", "HorizontalPodAutoscaler", "List"]),
        "metadata": metadata,
        "spec": fields(
            type=st.sampled_from(["NodePort", "LoadBalancer", "ClusterIP"]),
            ports=st.lists(fields(name=scalars, nodePort=scalars), max_size=3),
            minReplicas=scalars,
            scaleTargetRef=fields(kind=st.sampled_from(KINDS), name=st.text(max_size=6)),
        ),
    },
    optional={"items": st.lists(workload | junk, max_size=3)},
)
manifests = st.lists(workload | other | junk, max_size=6)
severity = st.dictionaries(st.sampled_from(list(RULES)), st.sampled_from(["off", "warn", "error"]))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=manifests, levels=severity, min_replicas=st.none() | st.integers(1, 5))
def test_linting_never_raises_and_findings_are_well_formed(
    docs: list[Any], levels: dict[str, Any], min_replicas: int | None
) -> None:
    findings = lint_manifests(
        docs, severity=levels, min_replicas=min_replicas, sources=["t.yaml"] * len(docs)
    )
    for finding in findings:
        assert finding.rule in RULES
        severity: str = finding.severity  # as a str: the check is that "off" never reaches a finding
        assert levels.get(finding.rule, "warn") == severity != "off"
        assert finding.field
        assert finding.field.strip() == finding.field
        assert finding.message
        assert finding.kind
        assert finding.name
        assert finding.namespace is None or finding.namespace
        assert finding.source == "t.yaml"
        if min_replicas is None:
            assert finding.rule != "min-replicas"
    keys = [(f.kind, f.name, f.rule, f.field) for f in findings]
    assert keys == sorted(keys)
    assert sum(summarize(findings).values()) == len(findings)


@given(docs=st.lists(junk, max_size=5))
def test_free_form_junk_never_raises(docs: list[Any]) -> None:
    for finding in lint_manifests(docs, min_replicas=2):
        assert finding.field
