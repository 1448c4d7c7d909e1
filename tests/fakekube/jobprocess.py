"""Jobs that really run: a Job's container command as a local process.

With ``FakeKube.run_jobs_in = Path(...)`` set, the containers of pods owned by
a Job run their ``command + args`` in that directory, with the values of the
Secrets named in ``envFrom`` in their environment, so a migration Job really
migrates a real database. The process runs in a thread; until it exits the
pod is Running, then Succeeded or Failed with its output as the pod's log.

A container without ``command`` runs its image's entrypoint: ``entrypoints``
maps an image to a local argv (kaniko's image to tests/servers/kaniko_standin).
Each pod gets a directory standing in for its root filesystem, passed as
``FAKEKUBE_POD_ROOT``: Secret volumes are written there at their mountPath
(0600 files), and what the process writes to ``<root>/dev/termination-log``
becomes the container's termination message, as the kubelet does.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

Obj = dict[str, Any]


def owned_by_job(pod: Obj) -> bool:
    return any(ref.get("kind") == "Job" for ref in (pod.get("metadata") or {}).get("ownerReferences") or [])


class JobProcesses:
    def __init__(
        self, workdir: Path, *, timeout: float = 120.0, entrypoints: dict[str, list[str]] | None = None
    ) -> None:
        self.workdir = workdir
        self.timeout = timeout
        self.entrypoints = dict(entrypoints or {})
        self._lock = threading.Lock()
        self._results: dict[str, tuple[int, str, str]] = {}
        self._started: set[str] = set()

    def result(
        self,
        pod: Obj,
        container: Obj,
        *,
        read_secret: Callable[[str, str], Obj | None],
        done: Callable[[], None],
    ) -> tuple[int, str, str] | None:
        """(exit code, output, termination message) once finished; None while running."""
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
        # Outside the workdir: that is often an app checkout, whose build context must not change.
        root = Path(tempfile.mkdtemp(prefix="fakekube-pod-"))
        env["FAKEKUBE_POD_ROOT"] = str(root)
        self._mount_secrets(pod, container, root, read_secret)
        command = container.get("command") or self.entrypoints.get(str(container.get("image")), [])
        argv = [str(a) for a in list(command) + (container.get("args") or [])]
        thread = threading.Thread(target=self._run, args=(key, argv, env, root, done), daemon=True)
        thread.start()
        return None

    @staticmethod
    def _mount_secrets(
        pod: Obj, container: Obj, root: Path, read_secret: Callable[[str, str], Obj | None]
    ) -> None:
        (root / "dev").mkdir(parents=True, exist_ok=True)
        volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or []}
        for mount in container.get("volumeMounts") or []:
            secret_name = ((volumes.get(mount.get("name")) or {}).get("secret") or {}).get("secretName")
            if not secret_name:
                continue
            target = root / str(mount["mountPath"]).lstrip("/")
            target.mkdir(parents=True, exist_ok=True)
            secret = read_secret(pod["metadata"].get("namespace", ""), secret_name) or {}
            for k, v in (secret.get("data") or {}).items():
                path = target / k
                path.write_bytes(base64.b64decode(v))
                path.chmod(0o600)

    def _run(
        self, key: str, argv: list[str], env: dict[str, str], root: Path, done: Callable[[], None]
    ) -> None:
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
            termination = root / "dev" / "termination-log"
            message = termination.read_text() if termination.is_file() else ""
            outcome = (proc.returncode, proc.stdout + proc.stderr, message)
        except (OSError, subprocess.TimeoutExpired) as e:
            outcome = (127, f"fakekube: could not run {argv[:1]}: {e}\n", "")
        shutil.rmtree(root, ignore_errors=True)  # the mounted Secrets with it
        with self._lock:
            self._results[key] = outcome
        done()
