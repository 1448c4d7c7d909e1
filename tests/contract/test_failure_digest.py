"""The failure digest on the pod shapes a real kubelet (v1.36, ../shared/k8s node-up) reported.

The container statuses below are what the real node showed for the e2e failures
(tests/e2e/test_deploy_cli.py): a crash loop between restarts and while running again, an
OOM kill, an image missing from the registry. They go through the Kubernetes adapter's
conversion, as the API returns them, into the digest.
"""

from __future__ import annotations

from typing import Any

from deploytag.adapters.kubernetes.convert import pod_state
from deploytag.capabilities.verify import format_digest
from deploytag.ports.cluster import Diagnostics, EventRecord


def pod(name: str, phase: str, status: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "ns"},
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [{"name": "guestbook", "ready": False, **status}],
        },
    }


ERROR_EXIT_1 = {"terminated": {"exitCode": 1, "reason": "Error"}}


def digest(
    *pods: dict[str, Any], events: tuple[EventRecord, ...] = (), logs: dict[str, str] | None = None
) -> str:
    return format_digest(
        Diagnostics(workloads=(), pods=tuple(pod_state(p) for p in pods), events=events, logs=logs or {})
    )


def test_a_crash_loop_running_again_shows_how_the_last_run_ended() -> None:
    text = digest(
        pod("web-1", "Running", {"restartCount": 1, "state": {"running": {}}, "lastState": ERROR_EXIT_1}),
        logs={"web-1/guestbook": "guestbook: MAX_ENTRIES must be an integer, got 'lots'\n"},
    )
    assert (
        "container guestbook: running, not ready; restarted 1x; last run ended: Error (exit code 1)" in text
    )
    assert "  | guestbook: MAX_ENTRIES must be an integer, got 'lots'" in text


def test_a_crash_loop_between_restarts_keeps_the_exit_code_and_drops_the_pod_uid() -> None:
    waiting = {
        "waiting": {
            "reason": "CrashLoopBackOff",
            "message": "back-off 20s restarting failed container=guestbook pod=web-1_ns(0e6a5415-9741)",
        }
    }
    text = digest(pod("web-1", "Running", {"restartCount": 2, "state": waiting, "lastState": ERROR_EXIT_1}))
    assert (
        "container guestbook: CrashLoopBackOff: back-off 20s restarting failed; restarted 2x; "
        "last run ended: Error (exit code 1)"
    ) in text
    assert "0e6a5415" not in text


def test_an_oom_kill_is_named_with_what_to_change() -> None:
    oom = {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}
    text = digest(pod("web-1", "Running", {"restartCount": 3, "state": {"running": {}}, "lastState": oom}))
    assert "last run ended: OOMKilled (exit code 137)" in text
    assert "raise resources.limits.memory" in text


def test_finished_pods_and_repeated_warnings_do_not_crowd_the_digest() -> None:
    job = {
        "metadata": {"name": "web-migrate-x", "namespace": "ns"},
        "status": {
            "phase": "Succeeded",
            "containerStatuses": [
                {
                    "name": "job",
                    "ready": False,
                    "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
                }
            ],
        },
    }
    quota = [
        EventRecord(
            "ReplicaSet",
            "web-rs",
            "Warning",
            "FailedCreate",
            f"pods web-rs-{i} is forbidden: exceeded quota",
            1,
            f"2026-12-01T08:00:0{i}Z",
        )
        for i in range(5)
    ]
    dns = EventRecord(
        "Pod", "web-migrate-x", "Warning", "MissingClusterDNS", "no DNS", 3, "2026-12-01T08:00:09Z"
    )
    refused = (*quota, dns)
    text = digest(job, events=refused, logs={"web-migrate-x/job": "migrate: 1 applied\n"})
    assert "web-migrate-x" not in text
    [line] = [line for line in text.splitlines() if "FailedCreate" in line]
    assert line.endswith("pods web-rs-4 is forbidden: exceeded quota (x5)")
