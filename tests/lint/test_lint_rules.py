"""Each rule: the good manifests pass, and breaking one practice yields one finding."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from lintfixtures import LABELS, container, cronjob, deployment, good, hpa, service

from deploytag.core.lint import Finding, lint_manifests

POD = "spec.template.spec"
APP = f"{POD}.containers[server]"
INIT = f"{POD}.initContainers[migrate]"
Manifest = dict[str, Any]


def pod(manifest: Manifest) -> Manifest:
    spec: Manifest = manifest["spec"]["template"]["spec"]
    return spec


def app(manifest: Manifest) -> Manifest:
    first: Manifest = pod(manifest)["containers"][0]
    return first


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def test_good_manifests_have_no_findings_even_for_a_permanent_environment() -> None:
    assert lint_manifests(good(), min_replicas=2) == []


def test_good_deployment_without_autoscaler_has_no_findings() -> None:
    assert lint_manifests([deployment(), service()], min_replicas=2) == []


def _drop(key: str) -> Callable[[Manifest], object]:
    return lambda m: app(m).pop(key)


# (rule, how to break the good Deployment, field of the one finding)
BREAKAGES: list[tuple[str, Callable[[Manifest], object], str]] = [
    ("image-tag-pinned", lambda m: app(m).update(image="redis:latest"), f"{APP}.image"),
    ("liveness-probe", _drop("livenessProbe"), f"{APP}.livenessProbe"),
    ("readiness-probe", _drop("readinessProbe"), f"{APP}.readinessProbe"),
    ("resource-requests", lambda m: app(m)["resources"].pop("requests"), f"{APP}.resources.requests"),
    ("resource-limits", lambda m: app(m)["resources"]["limits"].pop("cpu"), f"{APP}.resources.limits"),
    (
        "run-as-non-root",
        lambda m: (app(m).pop("securityContext"), pod(m).pop("securityContext")),
        f"{APP}.securityContext.runAsNonRoot",
    ),
    ("recommended-labels", lambda m: m["metadata"]["labels"].clear(), "metadata.labels"),
    (
        "recommended-labels",
        lambda m: m["spec"]["template"]["metadata"]["labels"].pop("app.kubernetes.io/instance"),
        "spec.template.metadata.labels",
    ),
    ("min-replicas", lambda m: m["spec"].update(replicas=1), "spec.replicas"),
    ("min-replicas", lambda m: m["spec"].pop("replicas"), "spec.replicas"),
]


@pytest.mark.parametrize(("rule", "breakage", "field"), BREAKAGES, ids=[f"{r}:{f}" for r, _, f in BREAKAGES])
def test_each_rule_reports_its_breakage(
    rule: str, breakage: Callable[[Manifest], object], field: str
) -> None:
    manifest = deployment()
    breakage(manifest)
    finding = only(lint_manifests([manifest], min_replicas=2))
    assert (finding.rule, finding.field, finding.kind, finding.name) == (
        rule,
        field,
        "Deployment",
        "adservice",
    )
    assert finding.severity == "warn"
    assert finding.message[0].islower()  # an instruction, not a sentence about the object


def test_messages_say_what_to_do() -> None:
    manifest = deployment()
    app(manifest).pop("readinessProbe")
    app(manifest)["resources"] = {"limits": {"cpu": "1"}}
    by_rule = {f.rule: f.message for f in lint_manifests([manifest])}
    assert by_rule["readiness-probe"] == "add a readinessProbe so traffic waits until the app is ready"
    assert by_rule["resource-requests"].startswith("set cpu and memory requests")
    assert by_rule["resource-limits"].startswith("set memory limits")


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ("nginx", "no tag"),
        ("nginx:latest", "latest"),
        ("nginx:", "empty tag"),
        ("registry.example.com:5000/team/app", "no tag"),  # the ':' is the port
        ("app@sha256:abc", "malformed digest"),
        ("", "set an image"),
        (None, "set an image"),
        (["nginx:1.25"], "set an image"),
    ],
)
def test_unpinned_images(image: object, problem: str) -> None:
    manifest = deployment()
    app(manifest)["image"] = image
    finding = only(lint_manifests([manifest]))
    assert finding.rule == "image-tag-pinned"
    assert problem in finding.message


DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    "image",
    [
        "nginx:1.25.3",
        "registry.example.com:5000/team/app:2024-05-01",
        f"nginx@{DIGEST}",
        f"nginx:latest@{DIGEST}",  # the digest wins: it is what the kubelet pulls
        f"registry.example.com:5000/team/app@{DIGEST}",
    ],
)
def test_pinned_images(image: str) -> None:
    manifest = deployment()
    app(manifest)["image"] = image
    assert lint_manifests([manifest]) == []


def test_probe_without_a_check_is_reported() -> None:
    manifest = deployment()
    app(manifest)["livenessProbe"] = {"initialDelaySeconds": 5}
    finding = only(lint_manifests([manifest]))
    assert finding.rule == "liveness-probe"
    assert "httpGet" in finding.message


def test_init_containers_get_image_resources_and_non_root_but_no_probes() -> None:
    manifest = deployment()
    init = pod(manifest)["initContainers"][0]
    init["image"] = "busybox"
    init.pop("resources")
    init["securityContext"] = {"runAsUser": 0}  # overrides the pod's uid 10001
    assert "livenessProbe" not in init
    findings = lint_manifests([manifest])
    assert {(f.rule, f.field) for f in findings} == {
        ("image-tag-pinned", f"{INIT}.image"),
        ("resource-requests", f"{INIT}.resources.requests"),
        ("resource-limits", f"{INIT}.resources.limits"),
        ("run-as-non-root", f"{INIT}.securityContext.runAsUser"),
    }


def test_unnamed_container_is_named_by_index() -> None:
    manifest = deployment()
    app(manifest).pop("name")
    app(manifest)["image"] = "nginx"
    assert only(lint_manifests([manifest])).field == f"{POD}.containers[0].image"


class TestRunAsNonRoot:
    @staticmethod
    def findings(pod_ctx: Manifest | None, container_ctx: Manifest | None) -> list[tuple[str, str]]:
        manifest = deployment()
        pod(manifest).pop("initContainers")
        for target, ctx in ((pod(manifest), pod_ctx), (app(manifest), container_ctx)):
            target.pop("securityContext")
            if ctx is not None:
                target["securityContext"] = ctx
        return [(f.rule, f.field) for f in lint_manifests([manifest])]

    @pytest.mark.parametrize(
        ("pod_ctx", "container_ctx"),
        [
            ({"runAsNonRoot": True}, None),
            (None, {"runAsNonRoot": True}),
            ({"runAsUser": 1000}, {}),
            (None, {"runAsUser": 1000}),
            ({"runAsUser": 0}, {"runAsUser": 1000}),  # the container overrides the pod
            ({"runAsNonRoot": False}, {"runAsNonRoot": True}),
        ],
    )
    def test_non_root(self, pod_ctx: Manifest | None, container_ctx: Manifest | None) -> None:
        assert self.findings(pod_ctx, container_ctx) == []

    @pytest.mark.parametrize(
        ("pod_ctx", "container_ctx", "field"),
        [
            (None, None, "runAsNonRoot"),
            ({}, {"privileged": False}, "runAsNonRoot"),
            ({"runAsNonRoot": True}, {"runAsNonRoot": False}, "runAsNonRoot"),  # container overrides
            ({"runAsUser": 1000}, {"runAsUser": 0}, "runAsUser"),
            ({"runAsUser": 0, "runAsNonRoot": True}, None, "runAsUser"),  # kubelet would refuse to start it
            ({"runAsUser": "1000"}, None, "runAsNonRoot"),  # not a uid at all
            ({"runAsNonRoot": "true"}, None, "runAsNonRoot"),  # a string, not a boolean
        ],
    )
    def test_root(self, pod_ctx: Manifest | None, container_ctx: Manifest | None, field: str) -> None:
        assert self.findings(pod_ctx, container_ctx) == [
            ("run-as-non-root", f"{APP}.securityContext.{field}")
        ]


class TestJobsAndPods:
    def test_cronjob_containers_need_no_probes_and_fields_follow_the_job_template(self) -> None:
        manifest = cronjob()
        spec = manifest["spec"]["jobTemplate"]["spec"]["template"]
        spec["spec"]["containers"][0]["image"] = "report:latest"
        spec["metadata"]["labels"] = {}
        findings = lint_manifests([manifest], min_replicas=2)
        assert [(f.kind, f.rule, f.field) for f in findings] == [
            ("CronJob", "image-tag-pinned", "spec.jobTemplate.spec.template.spec.containers[report].image"),
            ("CronJob", "recommended-labels", "spec.jobTemplate.spec.template.metadata.labels"),
        ]

    def test_job_containers_need_no_probes(self) -> None:
        template = deployment()["spec"]["template"]
        template["spec"]["restartPolicy"] = "Never"
        job = {
            "kind": "Job",
            "metadata": {"name": "migrate", "labels": LABELS},
            "spec": {"template": template},
        }
        app(job).pop("livenessProbe")
        app(job).pop("readinessProbe")
        assert lint_manifests([job]) == []

    def test_bare_pod_that_runs_to_completion_needs_no_probes(self) -> None:
        spec = pod(deployment())
        bare = {"kind": "Pod", "metadata": {"name": "once", "labels": LABELS}, "spec": spec}
        spec["containers"] = [container(livenessProbe=None, readinessProbe=None)]
        assert {f.rule for f in lint_manifests([bare])} == {"liveness-probe", "readiness-probe"}
        spec["restartPolicy"] = "Never"
        assert lint_manifests([bare]) == []

    @pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet", "ReplicaSet"])
    def test_other_controllers_are_linted_like_deployments(self, kind: str) -> None:
        manifest = deployment()
        manifest["kind"] = kind
        app(manifest).pop("livenessProbe")
        assert only(lint_manifests([manifest])).field == f"{APP}.livenessProbe"

    def test_helm_test_hooks_are_not_linted(self) -> None:
        # `helm create` renders this: it runs under `helm test` only, never in the environment.
        test_pod: Manifest = {
            "kind": "Pod",
            "metadata": {"name": "rel-test-connection", "annotations": {"helm.sh/hook": "test"}},
            "spec": {"containers": [{"name": "wget", "image": "busybox"}], "restartPolicy": "Never"},
        }
        assert lint_manifests([test_pod]) == []
        test_pod["metadata"]["annotations"]["helm.sh/hook"] = "pre-install"
        assert "image-tag-pinned" in {f.rule for f in lint_manifests([test_pod])}


class TestNoNodePort:
    def test_nodeport_service(self) -> None:
        finding = only(lint_manifests([service(type="NodePort")]))
        assert (finding.rule, finding.kind, finding.field) == ("no-nodeport", "Service", "spec.type")

    @pytest.mark.parametrize("kind", ["LoadBalancer", "ClusterIP"])
    def test_fixed_node_port(self, kind: str) -> None:
        ports = [{"name": "grpc", "port": 9555, "nodePort": 30555}, {"port": 80, "nodePort": 30080}]
        findings = lint_manifests([service(type=kind, ports=ports)])
        assert [f.field for f in findings] == ["spec.ports[1].nodePort", "spec.ports[grpc].nodePort"]

    def test_load_balancer_without_fixed_port_is_fine(self) -> None:
        # DeployTag's own expose step uses LoadBalancer Services.
        assert lint_manifests([service(type="LoadBalancer"), service("plain", type=None)]) == []

    def test_service_labels(self) -> None:
        manifest = service()
        manifest["metadata"].pop("labels")
        assert only(lint_manifests([manifest])).rule == "recommended-labels"


class TestMinReplicas:
    def test_not_checked_without_min_replicas(self) -> None:
        # previews run a single replica on purpose: cheap, and nobody depends on them
        assert lint_manifests([deployment(replicas=1), hpa(min_replicas=1)]) == []

    def test_statefulset_below_minimum(self) -> None:
        manifest = deployment(replicas=2)
        manifest["kind"] = "StatefulSet"
        finding = only(lint_manifests([manifest], min_replicas=3))
        assert (finding.rule, finding.kind, finding.field) == ("min-replicas", "StatefulSet", "spec.replicas")
        assert "at least 3 (is 2)" in finding.message

    def test_daemonset_is_not_counted(self) -> None:
        manifest = deployment()
        manifest["kind"] = "DaemonSet"
        manifest["spec"].pop("replicas")
        assert lint_manifests([manifest], min_replicas=2) == []

    def test_autoscaler_floor_satisfies_the_rule(self) -> None:
        workload = deployment()
        workload["spec"].pop("replicas")  # usual when an HPA owns the count
        assert lint_manifests([workload, hpa(min_replicas=2)], min_replicas=2) == []
        assert lint_manifests([hpa(min_replicas=3), workload], min_replicas=3) == []

    @pytest.mark.parametrize("floor", [1, None])  # None: the API's default of 1
    def test_low_autoscaler_floor_is_reported_on_the_autoscaler(self, floor: int | None) -> None:
        finding = only(lint_manifests([deployment(replicas=5), hpa(min_replicas=floor)], min_replicas=2))
        assert (finding.kind, finding.field) == ("HorizontalPodAutoscaler", "spec.minReplicas")
        assert "(is 1)" in finding.message

    def test_autoscaler_for_another_workload_does_not_count(self) -> None:
        findings = lint_manifests([deployment(replicas=1), hpa("other", min_replicas=4)], min_replicas=2)
        assert [(f.kind, f.field) for f in findings] == [("Deployment", "spec.replicas")]

    def test_autoscaler_in_another_namespace_does_not_count(self) -> None:
        workload, scaler = deployment(replicas=1), hpa(min_replicas=4)
        workload["metadata"]["namespace"] = "app-staging"
        scaler["metadata"]["namespace"] = "elsewhere"
        assert only(lint_manifests([workload, scaler], min_replicas=2)).namespace == "app-staging"

    def test_autoscaler_without_namespace_matches(self) -> None:
        # helm puts objects without a namespace into the release namespace
        workload = deployment(replicas=1)
        workload["metadata"]["namespace"] = "app-staging"
        assert lint_manifests([workload, hpa(min_replicas=2)], min_replicas=2) == []


def test_kind_list_items_are_linted() -> None:
    broken = deployment()
    app(broken)["image"] = "nginx"
    findings = lint_manifests([{"apiVersion": "v1", "kind": "List", "items": [broken, service()]}])
    assert [(f.kind, f.rule) for f in findings] == [("Deployment", "image-tag-pinned")]
