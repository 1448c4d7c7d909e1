"""The lint rules: what each one checks in one rendered manifest.

Pure functions over whatever ``helm template`` produced. Nothing here trusts
the shape of its input: a chart can render ``containers: null``, a list where
a mapping belongs, or no ``spec`` at all, and the API server is the place that
rejects those, not the linter. So every lookup goes through ``_map``/``_seq``,
which turn a wrong shape into "absent".

``deploytag.core.lint`` turns the ``Violation``s yielded here into findings
(severity, manifest identity, template source).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

import msgspec

Level = Literal["warn", "error"]


class Rule(msgspec.Struct, frozen=True):
    id: str
    description: str
    default: Level = "warn"


RULES: Mapping[str, Rule] = MappingProxyType(
    {
        rule.id: rule
        for rule in (
            Rule("image-tag-pinned", "container images carry a version tag (not latest) or a digest"),
            Rule("liveness-probe", "long-running containers define a livenessProbe"),
            Rule("readiness-probe", "long-running containers define a readinessProbe"),
            Rule("resource-requests", "containers request cpu and memory"),
            Rule("resource-limits", "containers limit cpu and memory"),
            Rule("no-nodeport", "Services neither are NodePort nor fix a nodePort"),
            Rule("min-replicas", "permanent environments run each Deployment/StatefulSet at min_replicas"),
            Rule("recommended-labels", "workloads and Services carry app.kubernetes.io/name and /instance"),
            Rule("run-as-non-root", "containers run as a non-root user"),
        )
    }
)


class Violation(NamedTuple):
    rule: str
    field: str
    message: str


# Where the pod spec lives in each workload kind.
_POD_SPEC_PATH: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "Pod": ("spec",),
        "Deployment": ("spec", "template", "spec"),
        "StatefulSet": ("spec", "template", "spec"),
        "DaemonSet": ("spec", "template", "spec"),
        "ReplicaSet": ("spec", "template", "spec"),
        "Job": ("spec", "template", "spec"),
        "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    }
)
_RUN_TO_COMPLETION = frozenset({"Job", "CronJob"})
_SCALED = frozenset({"Deployment", "StatefulSet"})
_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
# name and instance identify the app and the release; version changes every
# release and managed-by is Helm's to set, so requiring them would be noise.
REQUIRED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance")
_DIGEST = re.compile(r"@[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")


def _map(value: object) -> Mapping[Any, Any]:
    return value if isinstance(value, Mapping) else {}


def _seq(value: object) -> list[Any] | tuple[Any, ...]:
    return value if isinstance(value, list | tuple) else []


def _dig(value: object, *keys: str) -> object:
    for key in keys:
        value = _map(value).get(key)
    return value


def _int(value: object) -> int | None:
    # bool is an int subclass, but `replicas: true` is a broken chart, not 1.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _set(value: object) -> bool:
    return value is not None and value != ""


def kind_of(manifest: Mapping[Any, Any]) -> str:
    kind = manifest.get("kind")
    return kind if isinstance(kind, str) and kind else "<no kind>"


def name_of(manifest: Mapping[Any, Any]) -> str:
    name = _dig(manifest, "metadata", "name")
    return name if isinstance(name, str) and name else "<unnamed>"


def namespace_of(manifest: Mapping[Any, Any]) -> str | None:
    namespace = _dig(manifest, "metadata", "namespace")
    return namespace if isinstance(namespace, str) and namespace else None


def is_helm_test(manifest: Mapping[Any, Any]) -> bool:
    """A ``helm test`` hook: it runs only under ``helm test``, never in the deployed app."""
    hook = _dig(manifest, "metadata", "annotations", "helm.sh/hook")
    if not isinstance(hook, str):
        return False
    return any(part.strip() in ("test", "test-success", "test-failure") for part in hook.split(","))


# An autoscaler's floor replaces spec.replicas, keyed by target (kind, name).
Floors = Mapping[tuple[str, str], list[tuple[str | None, int]]]


def autoscaler_floors(manifests: Iterable[Mapping[Any, Any]]) -> Floors:
    floors: dict[tuple[str, str], list[tuple[str | None, int]]] = {}
    for manifest in manifests:
        if manifest.get("kind") != "HorizontalPodAutoscaler":
            continue
        target = _map(_dig(manifest, "spec", "scaleTargetRef"))
        kind, name = target.get("kind"), target.get("name")
        if isinstance(kind, str) and isinstance(name, str):
            floor = _hpa_min(manifest)
            floors.setdefault((kind, name), []).append((namespace_of(manifest), floor))
    return floors


def _hpa_min(manifest: Mapping[Any, Any]) -> int:
    value = _int(_dig(manifest, "spec", "minReplicas"))
    return 1 if value is None else value  # the API's default


def check_manifest(
    manifest: Mapping[Any, Any], *, min_replicas: int | None, floors: Floors
) -> Iterator[Violation]:
    kind = kind_of(manifest)
    if kind == "Service":
        yield from _service(manifest)
        yield from _labels(manifest.get("metadata"), "metadata.labels")
    elif kind == "HorizontalPodAutoscaler":
        if min_replicas is not None:
            yield from _hpa(manifest, min_replicas)
    elif kind in _POD_SPEC_PATH:
        yield from _workload(manifest, kind, min_replicas, floors)


def _workload(
    manifest: Mapping[Any, Any], kind: str, min_replicas: int | None, floors: Floors
) -> Iterator[Violation]:
    path = _POD_SPEC_PATH[kind]
    yield from _labels(manifest.get("metadata"), "metadata.labels")
    if kind != "Pod":
        # Pods created by a controller get the template's labels, not the controller's.
        template = path[:-1]
        yield from _labels(_dig(manifest, *template, "metadata"), ".".join((*template, "metadata.labels")))
    if min_replicas is not None and kind in _SCALED:
        yield from _replicas(manifest, kind, min_replicas, floors)

    pod = _map(_dig(manifest, *path))
    restart = pod.get("restartPolicy")
    long_running = kind not in _RUN_TO_COMPLETION and restart in (None, "Always")
    base = ".".join(path)
    for group, probed in (("containers", long_running), ("initContainers", False)):
        for index, container in enumerate(_seq(pod.get(group))):
            if isinstance(container, Mapping):
                name = container.get("name")
                label = name if isinstance(name, str) and name else str(index)
                at = f"{base}.{group}[{label}]"
                yield from _container(container, pod, at, probed=probed)


def _container(
    container: Mapping[Any, Any], pod: Mapping[Any, Any], at: str, *, probed: bool
) -> Iterator[Violation]:
    problem = _image_problem(container.get("image"))
    if problem:
        yield Violation("image-tag-pinned", f"{at}.image", problem)

    if probed:
        for rule, probe, why in (
            ("liveness-probe", "livenessProbe", "so Kubernetes restarts the container when the app hangs"),
            ("readiness-probe", "readinessProbe", "so traffic waits until the app is ready"),
        ):
            value = container.get(probe)
            if not isinstance(value, Mapping):
                yield Violation(rule, f"{at}.{probe}", f"add a {probe} {why}")
            elif not any(isinstance(value.get(h), Mapping) for h in _PROBE_HANDLERS):
                yield Violation(
                    rule, f"{at}.{probe}", f"give the {probe} an httpGet, tcpSocket, exec or grpc check"
                )

    resources = container.get("resources")
    for rule, section, why in (
        ("resource-requests", "requests", "so the scheduler places the pod only where it fits"),
        ("resource-limits", "limits", "so one container cannot exhaust its node"),
    ):
        values = _map(_dig(resources, section))
        missing = [r for r in ("cpu", "memory") if not _set(values.get(r))]
        if missing:
            yield Violation(rule, f"{at}.resources.{section}", f"set {' and '.join(missing)} {section} {why}")

    yield from _non_root(container, pod, at)


def _image_problem(image: object) -> str | None:
    if not isinstance(image, str) or not image.strip():
        return "set an image with a version tag or @sha256 digest"
    if _DIGEST.search(image):
        return None
    if "@" in image:
        return f"image {image!r} has a malformed digest; use @sha256:<64 hex> or a version tag"
    # A ':' before the last '/' belongs to a registry port (registry:5000/app), not a tag.
    last = image.rsplit("/", 1)[-1]
    tag = last.partition(":")[2] if ":" in last else None
    if tag is None:
        return f"image {image!r} has no tag, so it runs latest; pin a version tag or @sha256 digest"
    if not tag:
        return f"image {image!r} has an empty tag (an unset chart value?); pin a version tag or digest"
    if tag == "latest":
        return f"image {image!r} uses latest, which changes under you; pin a version tag or @sha256 digest"
    return None


def _non_root(container: Mapping[Any, Any], pod: Mapping[Any, Any], at: str) -> Iterator[Violation]:
    own, inherited = _map(container.get("securityContext")), _map(pod.get("securityContext"))

    def effective(key: str) -> object:
        # Kubernetes semantics: a container's setting overrides the pod's.
        return own[key] if own.get(key) is not None else inherited.get(key)

    uid = _int(effective("runAsUser"))
    if uid == 0:
        yield Violation(
            "run-as-non-root",
            f"{at}.securityContext.runAsUser",
            "runAsUser is 0 (root); run as a non-zero uid with runAsNonRoot: true",
        )
    elif effective("runAsNonRoot") is not True and (uid is None or uid < 0):
        yield Violation(
            "run-as-non-root",
            f"{at}.securityContext.runAsNonRoot",
            "set runAsNonRoot: true (pod or container securityContext) so a compromised container is not root",
        )


def _labels(metadata: object, at: str) -> Iterator[Violation]:
    labels = _map(_dig(metadata, "labels"))
    missing = [key for key in REQUIRED_LABELS if not _set(labels.get(key))]
    if missing:
        yield Violation(
            "recommended-labels",
            at,
            f"add label {', '.join(missing)} so people and tools can tell which app and release this is",
        )


def _service(manifest: Mapping[Any, Any]) -> Iterator[Violation]:
    spec = _map(manifest.get("spec"))
    if spec.get("type") == "NodePort":
        yield Violation(
            "no-nodeport",
            "spec.type",
            "use ClusterIP behind an Ingress, or a LoadBalancer: NodePort opens a port on every node",
        )
        return
    for index, port in enumerate(_seq(spec.get("ports"))):
        node_port = _map(port).get("nodePort")
        if _set(node_port) and node_port != 0:
            name = _map(port).get("name")
            label = name if isinstance(name, str) and name else str(index)
            yield Violation(
                "no-nodeport",
                f"spec.ports[{label}].nodePort",
                "remove the fixed nodePort: it opens that port on every node; keep one entry point",
            )


def _replicas(
    manifest: Mapping[Any, Any], kind: str, min_replicas: int, floors: Floors
) -> Iterator[Violation]:
    namespace = namespace_of(manifest)
    # Without a namespace the object lands in the release namespace, so either
    # side lacking one may still be the same place; match rather than warn twice.
    if any(
        ns is None or namespace is None or ns == namespace
        for ns, _ in floors.get((kind, name_of(manifest)), [])
    ):
        return  # the autoscaler owns the count; its floor is checked on the HPA
    raw = _dig(manifest, "spec", "replicas")
    replicas = 1 if raw is None else _int(raw)  # absent means the API's default of 1
    if replicas is not None and replicas < min_replicas:
        yield Violation(
            "min-replicas",
            "spec.replicas",
            f"set replicas to at least {min_replicas} (is {replicas}) so a permanent environment "
            "survives losing a pod",
        )


def _hpa(manifest: Mapping[Any, Any], min_replicas: int) -> Iterator[Violation]:
    target = _dig(manifest, "spec", "scaleTargetRef", "kind")
    if not isinstance(target, str) or target not in _SCALED:
        return
    floor = _hpa_min(manifest)
    if floor < min_replicas:
        yield Violation(
            "min-replicas",
            "spec.minReplicas",
            f"set minReplicas to at least {min_replicas} (is {floor}) so a permanent environment "
            "survives losing a pod",
        )
