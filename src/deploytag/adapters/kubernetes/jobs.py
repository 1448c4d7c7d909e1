"""Run-to-completion Jobs (batch/v1): the migration runs in the cluster with the new image."""

from __future__ import annotations

import time
from typing import Any

from deploytag.adapters.kubernetes.connection import Connection, resource_path
from deploytag.adapters.kubernetes.errors import ApiNotFound, Op
from deploytag.core.errors import ClusterError, DeployTagError
from deploytag.ports.cluster import JobResult, JobSpec

_POLL_FIRST, _POLL_MAX = 0.25, 2.0
CONTAINER = "job"


def job_body(spec: JobSpec, timeout_seconds: float) -> dict[str, Any]:
    container: dict[str, Any] = {"name": CONTAINER, "image": spec.image}
    if spec.command:
        container["command"] = list(spec.command)
    if spec.args:
        container["args"] = list(spec.args)
    if spec.env_secret:
        container["envFrom"] = [{"secretRef": {"name": spec.env_secret}}]
    volumes = [
        {"name": f"secret-{i}", "secret": {"secretName": secret, "defaultMode": 0o400}}
        for i, secret in enumerate(spec.secret_mounts.values())
    ]
    if volumes:
        container["volumeMounts"] = [
            {"name": f"secret-{i}", "mountPath": path, "readOnly": True}
            for i, path in enumerate(spec.secret_mounts)
        ]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": spec.name, "labels": dict(spec.labels)},
        "spec": {
            "backoffLimit": 0,  # a migration that failed half-way is not blindly run again
            "activeDeadlineSeconds": max(int(timeout_seconds), 1),
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": dict(spec.labels)},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [container],
                    **({"volumes": volumes} if volumes else {}),
                },
            },
        },
    }


class JobOps:
    _conn: Connection

    def run_job(self, *, spec: JobSpec, timeout_seconds: float, log_lines: int) -> JobResult:
        deadline = time.monotonic() + timeout_seconds
        self._delete_job(spec.namespace, spec.name, wait_until=deadline)
        op = Op(verb="create", resource="jobs", name=spec.name, namespace=spec.namespace, group="batch")
        path = resource_path("batch/v1", "jobs", namespace=spec.namespace)
        created = self._conn.json(op, "POST", path, body=job_body(spec, timeout_seconds))
        uid = (created.get("metadata") or {}).get("uid", "")
        interval = _POLL_FIRST
        while True:
            job = self._read_job(spec.namespace, spec.name)
            finished = _finished(job)
            if finished is not None:
                ok, reason = finished
                logs, message = self._job_logs(spec.namespace, uid, log_lines)
                return JobResult(spec.name, ok, reason, logs, message)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                logs, message = self._job_logs(spec.namespace, uid, log_lines)
                self._delete_job(spec.namespace, spec.name, wait_until=None)
                return JobResult(spec.name, False, "Timeout", logs, message)
            time.sleep(min(interval, remaining))
            interval = min(interval * 2, _POLL_MAX)

    def _read_job(self, namespace: str, name: str) -> dict[str, Any]:
        op = Op(verb="get", resource="jobs", name=name, namespace=namespace, group="batch")
        try:
            return self._conn.json(op, "GET", _job_path(namespace, name))
        except ApiNotFound as e:
            raise ClusterError(
                f"job {namespace}/{name} disappeared while it ran", hint="check who deletes Jobs there"
            ) from e

    def _delete_job(self, namespace: str, name: str, *, wait_until: float | None) -> None:
        op = Op(verb="delete", resource="jobs", name=name, namespace=namespace, group="batch")
        try:
            # Background: the Job's pods go with it.
            self._conn.json(
                op, "DELETE", _job_path(namespace, name), body={"propagationPolicy": "Background"}
            )
        except ApiNotFound:
            return
        while wait_until is not None and time.monotonic() < wait_until:
            try:
                self._conn.json(
                    Op(verb="get", resource="jobs", name=name, namespace=namespace, group="batch"),
                    "GET",
                    _job_path(namespace, name),
                )
            except ApiNotFound:
                return
            time.sleep(_POLL_FIRST)

    def _job_logs(self, namespace: str, uid: str, lines: int) -> tuple[str, str]:
        """The newest pod's last lines and termination message; best effort, a result without
        logs still tells the outcome."""
        op = Op(verb="list", resource="pods", namespace=namespace)
        pods = [
            p
            for p in self._conn.items(op, resource_path("v1", "pods", namespace=namespace))
            if any(ref.get("uid") == uid for ref in (p.get("metadata") or {}).get("ownerReferences") or [])
        ]
        if not pods:
            return "", ""
        newest = max(pods, key=lambda p: (p.get("metadata") or {}).get("creationTimestamp") or "")
        name = newest["metadata"]["name"]
        message = termination_message(newest)
        try:
            return self._conn.text(
                Op(verb="get", resource="pods/log", name=name, namespace=namespace),
                resource_path("v1", "pods", name, namespace=namespace, subresource="log"),
                query={"container": CONTAINER, "tailLines": max(lines, 1)},
            ), message
        except DeployTagError as e:
            return f"(logs unavailable: {e.message})", message


def _job_path(namespace: str, name: str) -> str:
    return resource_path("batch/v1", "jobs", name, namespace=namespace)


def termination_message(pod: dict[str, Any]) -> str:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == CONTAINER:
            terminated = (status.get("state") or {}).get("terminated") or {}
            return str(terminated.get("message") or "")
    return ""


def _finished(job: dict[str, Any]) -> tuple[bool, str] | None:
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("status") != "True":
            continue
        if cond.get("type") == "Complete":
            return True, "Complete"
        if cond.get("type") == "Failed":
            return False, str(cond.get("reason") or "Failed")
    return None
