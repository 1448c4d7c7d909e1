"""Verify fails a crash loop of the rollout's new ReplicaSet at once, not at --timeout.

The objects are shaped as the real API returns them (the Deployment controller names the new
ReplicaSet in the Progressing condition; the kubelet reports back-off as a waiting reason),
converted by the Kubernetes adapter as in a run.
"""

from __future__ import annotations

from typing import Any

from deploytag.adapters.kubernetes.convert import pod_state, workload_state
from deploytag.capabilities.verify import CRASH_LOOP_RESTARTS, crash_looping


def deployment(progressing: str) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "ns", "generation": 2},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}},
        "status": {
            "observedGeneration": 2,
            "replicas": 2,
            "updatedReplicas": 1,
            "readyReplicas": 1,
            "availableReplicas": 1,
            "conditions": [
                {"type": "Available", "status": "True", "message": "Deployment has minimum availability."},
                {"type": "Progressing", "status": "True", "message": progressing},
            ],
        },
    }


def pod(
    name: str,
    replica_set: str,
    restarts: int,
    waiting: str = "CrashLoopBackOff",
    state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": "ns",
            "ownerReferences": [{"kind": "ReplicaSet", "name": replica_set, "controller": True}],
        },
        "spec": {
            "containers": [{"name": "main", "image": "x", "readinessProbe": {"exec": {"command": ["true"]}}}]
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [
                {
                    "name": "main",
                    "ready": False,
                    "restartCount": restarts,
                    "state": state
                    or {"waiting": {"reason": waiting, "message": "back-off 40s restarting failed"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
                }
            ],
        },
    }


NEW, OLD = "web-6c5bcc74f5", "web-69f488577b"


def verdict(progressing: str, *pods: dict[str, Any]) -> list[str]:
    pending = [workload_state("Deployment", deployment(progressing))]
    return [p.name for p in crash_looping([pod_state(p) for p in pods], pending)]


def test_the_new_replica_sets_crash_loop_is_fatal() -> None:
    assert verdict(f'ReplicaSet "{NEW}" is progressing.', pod("web-new", NEW, CRASH_LOOP_RESTARTS)) == [
        "web-new"
    ]
    # the controller's wording right after it created the ReplicaSet
    assert verdict(f'Created new replica set "{NEW}"', pod("web-new", NEW, CRASH_LOOP_RESTARTS)) == [
        "web-new"
    ]


def test_an_old_revisions_crash_loop_is_not_the_new_rollouts_failure() -> None:
    # Fixing a crash loop: the old pods still crash while the new ones come up.
    assert verdict(f'ReplicaSet "{NEW}" is progressing.', pod("web-old", OLD, 9)) == []


def test_a_few_restarts_or_a_running_container_are_given_time() -> None:
    progressing = f'ReplicaSet "{NEW}" is progressing.'
    assert verdict(progressing, pod("web-new", NEW, CRASH_LOOP_RESTARTS - 1)) == []
    assert verdict(progressing, pod("web-new", NEW, 5, waiting="ContainerCreating")) == []
    assert verdict("", pod("web-new", NEW, 9)) == []  # no ReplicaSet named: nothing to tell apart


def test_a_container_terminated_with_an_error_after_its_restarts_is_a_crash_loop() -> None:
    # For much of the back-off the kubelet reports the dead run itself (kubectl: STATUS Error).
    progressing = f'ReplicaSet "{NEW}" is progressing.'
    died = {"terminated": {"exitCode": 3, "reason": "Error"}}
    assert verdict(progressing, pod("web-new", NEW, CRASH_LOOP_RESTARTS, state=died)) == ["web-new"]
    assert verdict(progressing, pod("web-new", NEW, CRASH_LOOP_RESTARTS - 1, state=died)) == []
    # Running again (between crashes) or finished cleanly: not counted.
    running = {"running": {"startedAt": "2026-12-01T16:15:46Z"}}
    assert verdict(progressing, pod("web-new", NEW, 5, state=running)) == []
    done = {"terminated": {"exitCode": 0, "reason": "Completed"}}
    assert verdict(progressing, pod("web-new", NEW, 5, state=done)) == []


def test_the_reason_names_the_crash_loop_and_the_exit_code() -> None:
    from deploytag.capabilities.verify import _why

    died = pod("web-new", NEW, CRASH_LOOP_RESTARTS, state={"terminated": {"exitCode": 3, "reason": "Error"}})
    assert (
        _why(pod_state(died))
        == "pod/web-new: container main CrashLoopBackOff after 3 restarts (Error, exit code 3)"
    )
    waiting = pod_state(pod("web-new", NEW, 4))
    assert _why(waiting) == "pod/web-new: container main CrashLoopBackOff after 4 restarts"
