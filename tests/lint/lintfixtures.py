"""Realistic manifests that follow every practice; tests break one thing at a time.

Not a conftest: tests import these builders directly so each test reads as
"the good manifest, with this one change".
"""

from __future__ import annotations

import copy
from typing import Any

LABELS = {
    "app.kubernetes.io/name": "adservice",
    "app.kubernetes.io/instance": "feature-login",
    "app.kubernetes.io/version": "0.3.4",
    "app.kubernetes.io/managed-by": "Helm",
}
SELECTOR = {k: LABELS[k] for k in ("app.kubernetes.io/name", "app.kubernetes.io/instance")}


def container(name: str = "server", **overrides: Any) -> dict[str, Any]:
    """The seed's adservice container, with a non-root user added."""
    probe = {"initialDelaySeconds": 20, "periodSeconds": 15, "grpc": {"port": 9555}}
    spec: dict[str, Any] = {
        "name": name,
        "image": "gcr.io/google-samples/microservices-demo/adservice:v0.3.4",
        "ports": [{"containerPort": 9555, "name": "grpc"}],
        "env": [{"name": "PORT", "value": "9555"}],
        "resources": {
            "requests": {"cpu": "200m", "memory": "180Mi"},
            "limits": {"cpu": "300m", "memory": "300Mi"},
        },
        "readinessProbe": copy.deepcopy(probe),
        "livenessProbe": copy.deepcopy(probe),
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
    }
    for key, value in overrides.items():
        if value is None:
            spec.pop(key, None)  # None removes the key, as a chart leaving it out would
        else:
            spec[key] = value
    return spec


def deployment(name: str = "adservice", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "replicas": 2,
        "selector": {"matchLabels": dict(SELECTOR)},
        "template": {
            "metadata": {"labels": dict(LABELS)},
            "spec": {
                "serviceAccountName": "adservice",
                "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001},
                "initContainers": [
                    container(
                        "migrate",
                        image="gcr.io/google-samples/microservices-demo/adservice:v0.3.4",
                        command=["/app/migrate"],
                        livenessProbe=None,
                        readinessProbe=None,
                    )
                ],
                "containers": [container()],
            },
        },
    }
    body.update(spec)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": dict(LABELS)},
        "spec": body,
    }


def service(name: str = "adservice", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "ClusterIP",
        "selector": dict(SELECTOR),
        "ports": [{"name": "grpc", "port": 9555, "targetPort": 9555}],
    }
    body.update(spec)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": dict(LABELS)},
        "spec": body,
    }


def hpa(target: str = "adservice", min_replicas: int | None = 2, kind: str = "Deployment") -> dict[str, Any]:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": target},
        "maxReplicas": 10,
    }
    if min_replicas is not None:
        spec["minReplicas"] = min_replicas
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": target, "labels": dict(LABELS)},
        "spec": spec,
    }


def cronjob(name: str = "report") -> dict[str, Any]:
    """A CronJob whose pod is the good container minus probes (it finishes)."""
    pod = deployment()["spec"]["template"]
    pod["spec"]["restartPolicy"] = "OnFailure"
    pod["spec"]["containers"] = [container("report", livenessProbe=None, readinessProbe=None)]
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "labels": dict(LABELS)},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": pod}}},
    }


def good() -> list[dict[str, Any]]:
    """A Deployment (with init container), its Service, its HPA and a CronJob: no findings."""
    return [deployment(), service(), hpa(), cronjob()]
