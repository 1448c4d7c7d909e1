"""Defaulting and the validation a client is most likely to trip over.

Defaults are the ones the real API server fills in (replicas, strategy, pod
spec fields, service IPs and ports ...), because clients read them back: Helm 3's
readiness check dereferences ``spec.replicas`` and ``spec.strategy.rollingUpdate``,
and compares a ReplicaSet's pod template with its Deployment's.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from .errors import ApiError
from .resources import ResourceType
from .selectors import match_label_selector

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")

# resources whose names must be DNS-1123 labels (DNS-1035 for services)
_LABEL_NAMED = {"namespaces", "services"}


def _image_pull_policy(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return "IfNotPresent"
    if ":" not in last or last.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


def _default_probe(probe: dict[str, Any] | None) -> None:
    if not isinstance(probe, dict):
        return
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    if isinstance(probe.get("httpGet"), dict):
        probe["httpGet"].setdefault("path", "/")
        probe["httpGet"].setdefault("scheme", "HTTP")


def default_container(container: dict[str, Any]) -> None:
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("imagePullPolicy", _image_pull_policy(str(container.get("image", ""))))
    resources = container.setdefault("resources", {})
    if isinstance(resources, dict) and resources.get("limits") and not resources.get("requests"):
        resources["requests"] = dict(resources["limits"])
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for env in container.get("env") or []:
        field_ref = (env.get("valueFrom") or {}).get("fieldRef")
        if isinstance(field_ref, dict):
            field_ref.setdefault("apiVersion", "v1")
    for name in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(container.get(name))


def default_pod_spec(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    if spec.get("serviceAccountName"):
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or []:
            if isinstance(container, dict):
                default_container(container)
    for volume in spec.get("volumes") or []:
        for source in ("configMap", "secret"):
            if isinstance(volume.get(source), dict):
                volume[source].setdefault("defaultMode", 420)


def default_template(template: dict[str, Any]) -> None:
    template.setdefault("metadata", {})
    default_pod_spec(template.setdefault("spec", {}))


def _default_object(rtype: ResourceType, obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    key = rtype.store_key
    if key == ("", "namespaces"):
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
    elif key == ("", "secrets"):
        obj.setdefault("type", "Opaque")
        string_data = obj.pop("stringData", None) or {}
        data = obj.get("data") or {}
        for name, value in data.items():
            try:
                base64.b64decode(str(value), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ApiError.bad_request(
                    f'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input ({name})'
                ) from exc
        for name, value in string_data.items():
            data[name] = base64.b64encode(str(value).encode()).decode()
        if data:
            obj["data"] = data
    elif key == ("", "pods") and isinstance(spec, dict):
        default_pod_spec(spec)
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("priority", 0)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault(
            "tolerations",
            [
                {
                    "key": f"node.kubernetes.io/{t}",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                }
                for t in ("not-ready", "unreachable")
            ],
        )
    elif key == ("", "services") and isinstance(spec, dict):
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        if spec["type"] != "ExternalName":
            spec.setdefault("internalTrafficPolicy", "Cluster")
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("ipFamilies", ["IPv4"])
        if spec["type"] in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
        if spec["type"] == "LoadBalancer":
            spec.setdefault("allocateLoadBalancerNodePorts", True)
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
    elif key == ("", "persistentvolumeclaims") and isinstance(spec, dict):
        spec.setdefault("volumeMode", "Filesystem")
    elif key == ("apps", "deployments") and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        strategy = spec.setdefault("strategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxUnavailable", "25%")
            rolling.setdefault("maxSurge", "25%")
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        default_template(spec.setdefault("template", {}))
    elif key == ("apps", "statefulsets") and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        strategy = spec.setdefault("updateStrategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault(
            "persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"}
        )
        for claim in spec.get("volumeClaimTemplates") or []:
            claim.setdefault("apiVersion", "v1")
            claim.setdefault("kind", "PersistentVolumeClaim")
            claim.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
            claim.setdefault("status", {"phase": "Pending"})
        default_template(spec.setdefault("template", {}))
    elif key == ("apps", "daemonsets") and isinstance(spec, dict):
        strategy = spec.setdefault("updateStrategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxUnavailable", 1)
            rolling.setdefault("maxSurge", 0)
        spec.setdefault("revisionHistoryLimit", 10)
        default_template(spec.setdefault("template", {}))
    elif key == ("apps", "replicasets") and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        default_template(spec.setdefault("template", {}))
    elif key == ("batch", "jobs") and isinstance(spec, dict):
        spec.setdefault("parallelism", 1)
        spec.setdefault("completions", 1)
        spec.setdefault("backoffLimit", 6)
        spec.setdefault("completionMode", "NonIndexed")
        spec.setdefault("suspend", False)
        spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
        uid = obj["metadata"].get("uid", "")
        if not spec.get("manualSelector") and uid:
            spec.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
            labels = spec.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {})
            labels.setdefault("batch.kubernetes.io/controller-uid", uid)
            labels.setdefault("batch.kubernetes.io/job-name", obj["metadata"]["name"])
            labels.setdefault("controller-uid", uid)
            labels.setdefault("job-name", obj["metadata"]["name"])
        default_template(spec.setdefault("template", {}))
    elif key == ("batch", "cronjobs") and isinstance(spec, dict):
        spec.setdefault("concurrencyPolicy", "Allow")
        spec.setdefault("suspend", False)
        spec.setdefault("successfulJobsHistoryLimit", 3)
        spec.setdefault("failedJobsHistoryLimit", 1)
        job_spec = spec.setdefault("jobTemplate", {}).setdefault("spec", {})
        default_template(job_spec.setdefault("template", {}))
    elif key == ("coordination.k8s.io", "leases"):
        obj.setdefault("spec", {})


def apply_defaults(rtype: ResourceType, obj: dict[str, Any]) -> None:
    _default_object(rtype, obj)


# ---------------------------------------------------------------------------
# Validation (a useful subset: what a client computing names and labels gets wrong)


def _name_error(rtype: ResourceType, name: str) -> str | None:
    if rtype.resource == "services":
        if len(name) > 63 or not DNS1035_LABEL.match(name):
            return (
                f'Invalid value: "{name}": a DNS-1035 label must consist of lower case alphanumeric '
                "characters or '-', start with an alphabetic character, and end with an alphanumeric "
                "character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
                "'[a-z]([-a-z0-9]*[a-z0-9])?')"
            )
        return None
    if rtype.resource in _LABEL_NAMED:
        if len(name) > 63:
            return f'Invalid value: "{name}": must be no more than 63 characters'
        if not DNS1123_LABEL.match(name):
            return (
                f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of lower case '
                "alphanumeric characters or '-', and must start and end with an alphanumeric character "
                "(e.g. 'my-name',  or '123-abc', regex used for validation is "
                "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
            )
        return None
    if rtype.resource in ("roles", "rolebindings", "clusterroles", "clusterrolebindings", "events"):
        return None  # path segment names: anything without '/' or '%'
    if len(name) > 253:
        return f'Invalid value: "{name}": must be no more than 253 characters'
    if not DNS1123_SUBDOMAIN.match(name):
        return (
            f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case '
            "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character "
            "(e.g. 'example.com', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        )
    return None


def _label_key_error(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters"
    if not name or len(name) > 63 or not QUALIFIED_NAME.match(name):
        return (
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
            "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        )
    return None


def _check_labels(labels: Any, path: str, causes: list[tuple[str, str]]) -> None:
    if not isinstance(labels, dict):
        return
    for key, value in labels.items():
        if err := _label_key_error(str(key)):
            causes.append((path, f'Invalid value: "{key}": {err}'))
        if not isinstance(value, str):
            causes.append((f"{path}[{key}]", "Invalid value: must be a string"))
        elif len(value) > 63:
            causes.append((path, f'Invalid value: "{value}": must be no more than 63 characters'))
        elif not LABEL_VALUE.match(value):
            causes.append(
                (
                    path,
                    f'Invalid value: "{value}": a valid label must be an empty string or consist of '
                    "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
                    "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                )
            )


def _check_annotations(annotations: Any, causes: list[tuple[str, str]]) -> None:
    if not isinstance(annotations, dict):
        return
    total = 0
    for key, value in annotations.items():
        if err := _label_key_error(str(key)):
            causes.append(("metadata.annotations", f'Invalid value: "{key}": {err}'))
        if not isinstance(value, str):
            causes.append((f"metadata.annotations[{key}]", "Invalid value: must be a string"))
        total += len(str(key)) + len(str(value))
    if total > 256 * 1024:
        causes.append(("metadata.annotations", "Too long: must have at most 262144 bytes"))


def _check_pod_spec(spec: Any, path: str, causes: list[tuple[str, str]]) -> None:
    if not isinstance(spec, dict):
        causes.append((path, "Required value"))
        return
    containers = spec.get("containers")
    if not containers:
        causes.append((f"{path}.containers", "Required value"))
        return
    seen: set[str] = set()
    for i, container in enumerate(containers):
        cpath = f"{path}.containers[{i}]"
        name = container.get("name") if isinstance(container, dict) else None
        if not name:
            causes.append((f"{cpath}.name", "Required value"))
        elif not DNS1123_LABEL.match(name) or len(name) > 63:
            causes.append(
                (
                    f"{cpath}.name",
                    f"Invalid value: \"{name}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'",
                )
            )
        elif name in seen:
            causes.append((f"{cpath}.name", f'Duplicate value: "{name}"'))
        else:
            seen.add(name)
        if isinstance(container, dict) and not container.get("image"):
            causes.append((f"{cpath}.image", "Required value"))


def validate(rtype: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    """Raise a 422 Invalid for the mistakes a real server rejects."""
    meta = obj.get("metadata") or {}
    name = str(meta.get("name", ""))
    causes: list[tuple[str, str]] = []
    if err := _name_error(rtype, name):
        causes.append(("metadata.name", err))
    _check_labels(meta.get("labels"), "metadata.labels", causes)
    _check_annotations(meta.get("annotations"), causes)
    key = rtype.store_key
    spec = obj.get("spec")
    if key in (("", "configmaps"), ("", "secrets")):
        for field in ("data", "binaryData", "stringData"):
            for data_key in obj.get(field) or {}:
                if not CONFIG_KEY.match(str(data_key)):
                    causes.append(
                        (
                            f"{field}[{data_key}]",
                            f'Invalid value: "{data_key}": a valid config key must consist of alphanumeric '
                            "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', "
                            "regex used for validation is '[-._a-zA-Z0-9]+')",
                        )
                    )
    if key == ("", "pods"):
        _check_pod_spec(spec, "spec", causes)
    if key in (
        ("apps", "deployments"),
        ("apps", "statefulsets"),
        ("apps", "daemonsets"),
        ("apps", "replicasets"),
    ):
        spec = spec if isinstance(spec, dict) else {}
        selector = spec.get("selector")
        template = spec.get("template") or {}
        tlabels = (template.get("metadata") or {}).get("labels") or {}
        _check_labels(tlabels, "spec.template.metadata.labels", causes)
        if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
            causes.append(("spec.selector", "Required value"))
        elif not match_label_selector(selector, tlabels):
            causes.append(
                (
                    "spec.template.metadata.labels",
                    f"Invalid value: {_go_map(tlabels)}: `selector` does not match template `labels`",
                )
            )
        _check_pod_spec(template.get("spec"), "spec.template.spec", causes)
        if (
            key != ("apps", "replicasets")
            and (template.get("spec") or {}).get("restartPolicy", "Always") != "Always"
        ):
            causes.append(
                (
                    "spec.template.spec.restartPolicy",
                    f'Unsupported value: "{template["spec"]["restartPolicy"]}": supported values: "Always"',
                )
            )
        if old is not None and (old.get("spec") or {}).get("selector") != selector:
            causes.append(("spec.selector", f"Invalid value: {_selector_repr(selector)}: field is immutable"))
        if key == ("apps", "statefulsets") and old is not None:
            old_spec = old.get("spec") or {}
            for field in ("serviceName", "volumeClaimTemplates", "podManagementPolicy"):
                if _strip_claim_status(old_spec.get(field)) != _strip_claim_status(spec.get(field)):
                    causes.append(
                        (
                            "spec",
                            "Forbidden: updates to statefulset spec for fields other than 'replicas', "
                            "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' "
                            "and 'minReadySeconds' are forbidden",
                        )
                    )
                    break
    if key == ("batch", "jobs"):
        spec = spec if isinstance(spec, dict) else {}
        template = spec.get("template") or {}
        _check_pod_spec(template.get("spec"), "spec.template.spec", causes)
        policy = (template.get("spec") or {}).get("restartPolicy")
        if policy not in ("Never", "OnFailure"):
            causes.append(
                (
                    "spec.template.spec.restartPolicy",
                    f'Required value: valid values: "OnFailure", "Never" (got "{policy}")',
                )
            )
        if old is not None and (old.get("spec") or {}).get("template") != template:
            causes.append(("spec.template", "Invalid value: field is immutable"))
    if key == ("", "services") and isinstance(spec, dict):
        if spec.get("type") not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
            causes.append(("spec.type", f'Unsupported value: "{spec.get("type")}"'))
        if spec.get("type") != "ExternalName" and not spec.get("ports") and spec.get("clusterIP") != "None":
            causes.append(("spec.ports", "Required value"))
        names = [p.get("name") for p in spec.get("ports") or []]
        if len(names) > 1 and (None in names or len(set(names)) != len(names)):
            causes.append(
                ("spec.ports", "Required value: port names must be unique and set for multiple ports")
            )
    if causes:
        raise ApiError.invalid(rtype.group, rtype.kind, name, causes)


def _strip_claim_status(value: Any) -> Any:
    if isinstance(value, list):
        return [{k: v for k, v in c.items() if k != "status"} if isinstance(c, dict) else c for c in value]
    return value


def _go_map(labels: dict[str, Any]) -> str:
    return "map[string]string{" + ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items())) + "}"


def _selector_repr(selector: Any) -> str:
    if not isinstance(selector, dict):
        return "null"
    return "v1.LabelSelector{MatchLabels:" + _go_map(selector.get("matchLabels") or {}) + "}"
