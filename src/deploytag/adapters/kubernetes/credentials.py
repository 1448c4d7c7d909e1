"""The credentials a request carries: a bearer token, basic auth, a client certificate.

They come from a ``Target`` (see ``kubeconfig``), in the official client's order of
precedence: ``token``/``tokenFile``, then an ``exec`` plugin, then username/password;
a client certificate goes with any of them. Token files (also the in-cluster one) are
re-read when they change; an exec plugin is run on first use and again when its
credential has expired, or after the server refused it (``invalidate``).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from deploytag.adapters.kubernetes.errors import CredentialsFailed
from deploytag.adapters.kubernetes.kubeconfig import ExecPlugin, Target
from deploytag.core.errors import scrub

# Renew an exec credential this long before it expires, so it does not expire in flight.
_EXPIRY_MARGIN = 10.0
# A plugin that hangs (waiting for a login nobody will do) must not hang the run.
_EXEC_TIMEOUT = 120.0


@dataclass(frozen=True)
class Auth:
    """What one request sends. ``cert_pem``/``key_pem`` (or the files) select the TLS client identity;
    ``generation`` changes whenever they do, so the transport knows to reconnect."""

    authorization: str = field(default="", repr=False)
    cert_pem: bytes = field(default=b"", repr=False)
    key_pem: bytes = field(default=b"", repr=False)
    cert_file: str = ""
    key_file: str = ""
    generation: int = 0


class Credentials:
    """Thread-safe: requests from several threads share one plugin run and one token read."""

    def __init__(self, target: Target) -> None:
        self._target = target
        self._lock = threading.Lock()
        self._generation = 0
        self._file_token = ""
        self._file_stamp: tuple[int, int] | None = None
        self._exec_auth: Auth | None = None
        self._exec_expiry: float | None = None

    @property
    def refreshable(self) -> bool:
        """Whether a refused credential may be replaced by a newer one (worth one more request)."""
        return bool(self._target.exec and not self._target.token and not self._target.token_file)

    def current(self) -> Auth:
        target = self._target
        with self._lock:
            if target.token:
                return self._static(f"Bearer {target.token}")
            if target.token_file:
                return self._static(f"Bearer {self._read_token_file(target.token_file)}")
            if target.exec is not None:
                return self._from_exec(target.exec)
            if target.username and target.password:
                basic = base64.b64encode(f"{target.username}:{target.password}".encode()).decode("ascii")
                return self._static(f"Basic {basic}")
            return self._static("")

    def invalidate(self) -> None:
        """The server answered 401: run the plugin again for the next request."""
        with self._lock:
            self._exec_auth = None

    def _static(self, authorization: str) -> Auth:
        return static_auth(self._target, authorization)

    def _read_token_file(self, path: str) -> str:
        """The token, read again whenever the file changed (the kubelet and tools rotate it)."""
        try:
            stat = os.stat(path)
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != self._file_stamp:
                with open(path, encoding="utf-8") as f:
                    self._file_token = f.read().strip()
                self._file_stamp = stamp
        except OSError as e:
            if not self._file_token:
                raise CredentialsFailed(
                    f"cannot read the token file {path}: {e.strerror}",
                    hint="check that the file exists and is readable, or use another --context",
                ) from e
        return self._file_token

    def _from_exec(self, plugin: ExecPlugin) -> Auth:
        expired = self._exec_expiry is not None and time.time() >= self._exec_expiry - _EXPIRY_MARGIN
        if self._exec_auth is None or expired:
            self._exec_auth, self._exec_expiry = self._run(plugin)
        return self._exec_auth

    def _run(self, plugin: ExecPlugin) -> tuple[Auth, float | None]:
        spec: dict[str, object] = {"interactive": False}
        if plugin.cluster is not None:
            spec["cluster"] = dict(plugin.cluster)
        info = {"apiVersion": plugin.api_version, "kind": "ExecCredential", "spec": spec}
        env = {**dict(plugin.env), "KUBERNETES_EXEC_INFO": json.dumps(info)}
        hint = f"check that `{plugin.command}` works here and is logged in"
        hint += f" ({plugin.install_hint.strip()})" if plugin.install_hint.strip() else ""
        # A relative command with a directory part is relative to the kubeconfig, as in client-go.
        command = plugin.command
        if os.sep in command and not os.path.isabs(command):
            command = os.path.join(plugin.directory, command)
        from deploytag.adapters.common.process import SubprocessRunner
        from deploytag.core.errors import CommandError, ToolMissingError

        try:
            # An argument list, never a shell. The plugin is told it is not interactive: no prompts.
            proc = SubprocessRunner().run(
                argv=[command, *plugin.args],
                cwd=Path(plugin.directory) if plugin.directory else None,
                env=env,
                timeout_seconds=_EXEC_TIMEOUT,
                check=False,
            )
        except ToolMissingError as e:
            raise CredentialsFailed(f"the exec plugin {plugin.command} is not installed", hint=hint) from e
        except CommandError as e:  # it did not finish in time
            raise CredentialsFailed(f"the exec plugin {plugin.command} failed: {e.message}", hint=hint) from e
        except OSError as e:  # not executable, ...
            raise CredentialsFailed(f"the exec plugin {plugin.command} failed: {e}", hint=hint) from e
        if proc.returncode != 0:
            said = proc.stderr.strip().splitlines()
            last = f": {scrub(said[-1])}" if said else ""
            raise CredentialsFailed(
                f"the exec plugin {plugin.command} exited with status {proc.returncode}{last}", hint=hint
            )
        status = _status(proc.stdout, plugin)
        self._generation += 1
        token = str(status.get("token") or "")
        cert, key = str(status.get("clientCertificateData") or ""), str(status.get("clientKeyData") or "")
        if not token and not (cert and key):
            raise CredentialsFailed(
                f"the exec plugin {plugin.command} gave neither a token nor a client certificate and key",
                hint=hint,
            )
        t = self._target
        auth = Auth(
            authorization=f"Bearer {token}" if token else "",
            cert_pem=cert.encode() if cert else t.cert_pem,
            key_pem=key.encode() if cert else t.key_pem,
            cert_file="" if cert else t.cert_file,
            key_file="" if cert else t.key_file,
            generation=self._generation if cert else 0,
        )
        return auth, _expiry(status.get("expirationTimestamp"), plugin)


def static_auth(target: Target, authorization: str = "") -> Auth:
    """The kubeconfig's own client certificate (generation 0), with ``authorization``."""
    t = target
    return Auth(authorization, t.cert_pem, t.key_pem, t.cert_file, t.key_file, generation=0)


def _status(stdout: str, plugin: ExecPlugin) -> dict[str, object]:
    """``status`` of the ExecCredential the plugin printed, checked as client-go checks it."""
    hint = f"check that `{plugin.command}` prints an ExecCredential of {plugin.api_version}"
    try:
        credential = json.loads(stdout)
    except ValueError as e:
        raise CredentialsFailed(f"the exec plugin {plugin.command} printed no JSON", hint=hint) from e
    if not isinstance(credential, dict) or credential.get("kind") != "ExecCredential":
        raise CredentialsFailed(f"the exec plugin {plugin.command} printed no ExecCredential", hint=hint)
    if credential.get("apiVersion") != plugin.api_version:
        raise CredentialsFailed(
            f"the exec plugin {plugin.command} answered in {credential.get('apiVersion')}, "
            f"not {plugin.api_version} as the kubeconfig asks",
            hint=hint,
        )
    status = credential.get("status")
    if not isinstance(status, dict):
        raise CredentialsFailed(f"the exec plugin {plugin.command} printed no status", hint=hint)
    return status


def _expiry(stamp: object, plugin: ExecPlugin) -> float | None:
    if not stamp:
        return None  # valid until the server refuses it
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
    except ValueError as e:
        raise CredentialsFailed(
            f"the exec plugin {plugin.command} gave an expirationTimestamp that is not RFC 3339: {stamp}",
            hint=f"check that `{plugin.command}` prints a valid ExecCredential",
        ) from e
