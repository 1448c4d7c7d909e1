"""Jobs that really run: a Job's container command as a local process.

With ``FakeKube.run_jobs_in = Path(...)`` set, the containers of pods owned by
a Job run their ``command + args`` in that directory, with the values of the
Secrets named in ``envFrom`` in their environment, so a migration Job really
migrates a real database. The process runs in a thread; until it exits the
pod is Running, then Succeeded or Failed with its output as the pod's log.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

Obj = dict[str, Any]


def owned_by_job(pod: Obj) -> bool:
    return any(ref.get("kind") == "Job" for ref in (pod.get("metadata") or {}).get("ownerReferences") or [])


class JobProcesses:
    def __init__(self, workdir: Path, *, timeout: float = 120.0) -> None:
        self.workdir = workdir
        self.timeout = timeout
        self._lock = threading.Lock()
        self._results: dict[str, tuple[int, str]] = {}
        self._started: set[str] = set()

    def result(
        self,
        pod: Obj,
        container: Obj,
        *,
        read_secret: Callable[[str, str], Obj | None],
        done: Callable[[], None],
    ) -> tuple[int, str] | None:
        """(exit code, output) once finished; None while running (started on first call)."""
        key = f"{pod['metadata']['uid']}/{container['name']}"
        with self._lock:
            if key in self._results:
                return self._results[key]
            if key in self._started:
                return None
            self._started.add(key)
        env = dict(os.environ)
        # The "image" is this machine: its python is the one running the fake (with the test deps).
        env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
        namespace = pod["metadata"].get("namespace", "")
        for source in container.get("envFrom") or []:
            ref = (source.get("secretRef") or {}).get("name")
            secret = read_secret(namespace, ref) if ref else None
            for k, v in ((secret or {}).get("data") or {}).items():
                env[k] = base64.b64decode(v).decode()
        argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
        thread = threading.Thread(target=self._run, args=(key, argv, env, done), daemon=True)
        thread.start()
        return None

    def _run(self, key: str, argv: list[str], env: dict[str, str], done: Callable[[], None]) -> None:
        try:
            proc = subprocess.run(
                argv,
                cwd=self.workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
            outcome = (proc.returncode, proc.stdout + proc.stderr)
        except (OSError, subprocess.TimeoutExpired) as e:
            outcome = (127, f"fakekube: could not run {argv[:1]}: {e}\n")
        with self._lock:
            self._results[key] = outcome
        done()
