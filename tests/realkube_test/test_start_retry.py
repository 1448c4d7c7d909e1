"""The session fixture runs node-up again when node-up's own liveness check gives up too early.

node-up reads a daemon's /proc cmdline right after launching it; before the exec chain
(setsid, nohup, the daemon) finishes it still reads "setsid nohup ...", and node-up reports
the daemon exited. That failed a CI run on a fresh machine. These tests use stand-in
scripts with node-up's interface (DIR argument, KEY=VALUE lines on stdout), not a cluster.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import realkube

FLAKY_UP = """#!/bin/sh
# fails on the first run in DIR, as node-up does when it loses the race, then succeeds
if [ ! -f "$1/ran-once" ]; then
  touch "$1/ran-once"
  echo "node-up: registry exited; tail of $1/logs/registry.log:" >&2
  exit 1
fi
echo "KUBECONFIG=$1/cp/kubeconfig"
echo "REGISTRY=127.0.0.1:5999"
"""

BROKEN_UP = """#!/bin/sh
echo "node-up: must run as root" >&2
exit 1
"""


def _scripts(tmp_path: Path, body: str) -> Path:
    k8s = tmp_path / "k8s"
    k8s.mkdir()
    for name in ("node-up", "up"):
        script = k8s / name
        script.write_text(body)
        script.chmod(0o755)
    return k8s


def test_a_start_that_loses_the_race_is_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(realkube, "K8S_DIR", _scripts(tmp_path, FLAKY_UP))
    monkeypatch.setattr(realkube, "RETRY_PAUSE_SECONDS", 0.0)
    directory = tmp_path / "cluster"
    directory.mkdir()
    kube, reason = realkube._start(directory, with_node=True)
    assert reason == ""
    assert kube is not None
    assert kube.kubeconfig == directory / "cp" / "kubeconfig"
    assert kube.registry == "127.0.0.1:5999"
    assert "succeeded on attempt 2" in capsys.readouterr().out


def test_a_start_that_always_fails_reports_every_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(realkube, "K8S_DIR", _scripts(tmp_path, BROKEN_UP))
    monkeypatch.setattr(realkube, "RETRY_PAUSE_SECONDS", 0.0)
    directory = tmp_path / "cluster"
    directory.mkdir()
    kube, reason = realkube._start(directory, with_node=False)
    assert kube is None
    assert reason.count("up exited 1") == realkube.START_ATTEMPTS
    assert "must run as root" in reason
