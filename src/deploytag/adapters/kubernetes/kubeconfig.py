"""Kubeconfig files and the in-cluster service account, read as kubectl reads them, without the SDK.

A ``KUBECONFIG`` list is merged like kubectl merges it: the first file that names a
cluster, user or context wins, and so does the first ``current-context``. Relative
file names (certificates, token files, exec commands) are relative to the file that
holds the entry. The result is a ``Target``: where the API server is, how to trust it
and how to authenticate. Secrets in it stay out of its ``repr``.

What the direct transport does not implement sets ``Target.sdk_reason``, and the
connection then falls back to the official client (see ``sdkfallback``): legacy
``auth-provider`` users (oidc, gcp, azure), a cluster ``proxy-url``, and a proxy in
the environment (HTTPS_PROXY and friends) that NO_PROXY does not bypass.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from deploytag.adapters.kubernetes.errors import LOCAL_CLUSTER_HINT
from deploytag.core.errors import ClusterError, scrub

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
IN_CLUSTER = "in-cluster service account"
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")


@dataclass(frozen=True)
class ExecPlugin:
    """A ``users[].user.exec`` credential plugin (client.authentication.k8s.io v1 or v1beta1)."""

    command: str
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = field(repr=False)  # may hold secrets
    api_version: str = ""
    directory: str = ""  # the kubeconfig's directory: the plugin's working directory, as the SDK ran it
    install_hint: str = ""
    cluster: Mapping[str, Any] | None = None  # for provideClusterInfo


@dataclass(frozen=True)
class Target:
    """One API server and how to reach it: a kubeconfig context or the in-cluster service account."""

    context: str  # for messages: a context name, or IN_CLUSTER
    server: str  # the URL as configured, without a trailing slash
    ca_pem: str = ""  # certificate-authority-data, decoded
    ca_file: str = ""
    insecure: bool = False
    tls_server_name: str = ""
    cert_file: str = ""
    key_file: str = ""
    cert_pem: bytes = field(default=b"", repr=False)
    key_pem: bytes = field(default=b"", repr=False)
    token: str = field(default="", repr=False)
    token_file: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    exec: ExecPlugin | None = None
    sdk_reason: str = ""  # non-empty: what only the official client handles (see sdkfallback)

    @property
    def where(self) -> str:
        return f"context {self.context} ({self.server})"


@dataclass(frozen=True)
class _Entry:
    value: Mapping[str, Any]
    directory: str  # of the file it came from, for its relative paths


class _Problem(Exception):
    """A context that cannot be used as written; becomes 'cannot load context ...'."""


def locate(kubeconfig: str | None) -> tuple[str, list[str]]:
    """(location as given, for messages; the files it names), as kubectl finds them."""
    location = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
    return location, [os.path.expanduser(p) for p in location.split(os.pathsep) if p]


def load(paths: Sequence[str], location: str, context: str | None) -> Target:
    """The ``Target`` of ``context`` (else the current context) of the merged files."""
    clusters: dict[str, _Entry] = {}
    users: dict[str, _Entry] = {}
    contexts: dict[str, _Entry] = {}
    names: list[str] = []
    current = ""
    for path in paths:
        data = _read(path)
        if not isinstance(data, dict):
            continue
        directory = os.path.dirname(os.path.abspath(path))
        for key, found in (("clusters", clusters), ("users", users), ("contexts", contexts)):
            for item in data.get(key) or []:
                if isinstance(item, dict) and item.get("name") and str(item["name"]) not in found:
                    found[str(item["name"])] = _Entry(item.get(key[:-1]) or {}, directory)
        names += [c.get("name", "") for c in data.get("contexts") or [] if isinstance(c, dict)]
        current = current or str(data.get("current-context") or "")
    wanted = context or current
    choices = ", ".join(n for n in names if n) or "none"
    if not wanted:
        raise ClusterError(
            f"kubeconfig {location} names no current context",
            hint=f"pass --context (one of: {choices}) or run `kubectl config use-context NAME`",
        )
    if wanted not in contexts:
        raise ClusterError(
            f"context {wanted} is not in kubeconfig {location}",
            hint=f"use one of: {choices} (--context), or set KUBECONFIG or --kubeconfig; "
            + LOCAL_CLUSTER_HINT,
        )
    try:
        return _target(wanted, contexts[wanted].value, clusters, users)
    except (_Problem, OSError, ValueError, TypeError, AttributeError) as e:
        raise ClusterError(
            f"cannot load context {wanted} from kubeconfig {location}: {scrub(str(e))[:300]}",
            hint="check it with `kubectl config view --minify`, or set KUBECONFIG or --kubeconfig; "
            + LOCAL_CLUSTER_HINT,
        ) from e


def in_cluster(environ: Mapping[str, str] = os.environ, directory: str = "") -> Target:
    """The service account Kubernetes mounts into a pod: KUBERNETES_SERVICE_HOST/PORT, token, ca.crt.

    The token file is re-read whenever it changes (the kubelet rotates it); see ``credentials``.
    """
    host, port = environ.get("KUBERNETES_SERVICE_HOST", ""), environ.get("KUBERNETES_SERVICE_PORT", "")
    directory = directory or SERVICE_ACCOUNT_DIR  # looked up now: tests point it at a directory of theirs
    token, ca = os.path.join(directory, "token"), os.path.join(directory, "ca.crt")
    problem = ""
    if not host or not port:
        problem = "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both be set"
    elif not _non_empty(token):
        problem = f"no service account token at {token}"
    elif not _non_empty(ca):
        problem = f"no service account CA certificate at {ca}"
    if problem:
        raise ClusterError(
            f"cannot use the in-cluster service account: {problem}",
            hint="mount the service account token, or set KUBECONFIG or --kubeconfig",
        )
    address = f"[{host}]" if ":" in host else host
    return Target(
        context=IN_CLUSTER,
        server=f"https://{address}:{port}",
        ca_file=ca,
        token_file=token,
        sdk_reason=_proxy_reason(host),
    )


def _read(path: str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.load(f, Loader=loader)  # noqa: S506 - a safe loader, the C one when built
    except FileNotFoundError:
        return None  # like kubectl, a missing entry of a KUBECONFIG list is skipped
    except (OSError, yaml.YAMLError) as e:
        raise ClusterError(
            f"cannot read kubeconfig {path}: {scrub(str(e))[:300]}",
            hint="fix the file, or set KUBECONFIG or --kubeconfig to another one",
        ) from e


def _target(
    name: str, context: Mapping[str, Any], clusters: Mapping[str, _Entry], users: Mapping[str, _Entry]
) -> Target:
    cluster_name, user_name = str(context.get("cluster") or ""), str(context.get("user") or "")
    if cluster_name not in clusters:
        raise _Problem(f"its cluster {cluster_name or '(none)'} is not defined")
    cluster = clusters[cluster_name]
    user = users.get(user_name, _Entry({}, cluster.directory))
    c, u = cluster.value, user.value
    server = str(c.get("server") or "").rstrip("/")
    if not server.startswith(("https://", "http://")):
        raise _Problem(f"cluster {cluster_name} has no server URL (https://HOST:PORT)")
    tls = server.startswith("https://")
    reason = ""
    if u.get("auth-provider"):
        provider = u["auth-provider"].get("name", "") if isinstance(u["auth-provider"], dict) else ""
        reason = f"the legacy auth-provider {provider}".rstrip()
    elif c.get("proxy-url"):
        reason = "the cluster's proxy-url"
    else:
        reason = _proxy_reason(urlsplit(server).hostname or "")
    cert_pem, cert_file = _file_or_data(u, "client-certificate", user.directory) if tls else (b"", "")
    key_pem, key_file = _file_or_data(u, "client-key", user.directory) if tls else (b"", "")
    if bool(cert_pem or cert_file) != bool(key_pem or key_file):
        raise _Problem(f"user {user_name} has a client certificate without its key, or a key without one")
    ca_pem, ca_file = _file_or_data(c, "certificate-authority", cluster.directory) if tls else (b"", "")
    token_file = _path(str(u.get("tokenFile") or ""), user.directory)
    if token_file and not u.get("token") and not os.path.isfile(token_file):
        raise _Problem(f"the tokenFile {token_file} does not exist")
    return Target(
        context=name,
        server=server,
        ca_pem=ca_pem.decode("ascii", "replace"),
        ca_file=ca_file,
        insecure=bool(c.get("insecure-skip-tls-verify")),
        tls_server_name=str(c.get("tls-server-name") or ""),
        cert_file=cert_file,
        key_file=key_file,
        cert_pem=cert_pem,
        key_pem=key_pem,
        token=str(u.get("token") or ""),
        token_file=token_file,
        username=str(u.get("username") or ""),
        password=str(u.get("password") or ""),
        exec=_exec_plugin(u.get("exec"), user.directory, c) if u.get("exec") else None,
        sdk_reason=reason,
    )


def _file_or_data(entry: Mapping[str, Any], key: str, directory: str) -> tuple[bytes, str]:
    """(decoded ``KEY-data``, or the path of ``KEY``): data wins, as with kubectl."""
    data = entry.get(f"{key}-data")
    if data:
        return base64.b64decode(str(data), validate=False), ""
    path = _path(str(entry.get(key) or ""), directory)
    if path and not os.path.isfile(path):
        raise _Problem(f"its {key} file {path} does not exist")
    return b"", path


def _exec_plugin(spec: Any, directory: str, cluster: Mapping[str, Any]) -> ExecPlugin:
    if not isinstance(spec, dict) or not spec.get("command") or not spec.get("apiVersion"):
        raise _Problem("its exec plugin needs a command and an apiVersion")
    env = tuple((str(e["name"]), str(e.get("value") or "")) for e in spec.get("env") or [] if "name" in e)
    return ExecPlugin(
        command=str(spec["command"]),
        args=tuple(str(a) for a in spec.get("args") or ()),
        env=env,
        api_version=str(spec["apiVersion"]),
        directory=directory,
        install_hint=str(spec.get("installHint") or ""),
        cluster=dict(cluster) if spec.get("provideClusterInfo") else None,
    )


def _path(path: str, directory: str) -> str:
    return os.path.normpath(os.path.join(directory, os.path.expanduser(path))) if path else ""


def _non_empty(path: str) -> bool:
    try:
        return os.path.getsize(path) > 0
    except OSError:
        return False


def _proxy_reason(host: str) -> str:
    """Why a proxy from the environment applies to ``host`` (the official client honours all four
    variables, whatever the scheme), or "" when none is set or NO_PROXY bypasses it."""
    variable = next((v for v in _PROXY_VARIABLES if os.environ.get(v)), "")
    if not variable or _bypassed(
        host.strip("[]"), os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or ""
    ):
        return ""
    return f"a proxy from {variable}"


def _bypassed(host: str, no_proxy: str) -> bool:
    """Whether NO_PROXY names ``host``: "*", the host, a parent domain, or (for an IP) a CIDR block."""
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        entry = entry.rpartition(":")[0] if entry.count(":") == 1 else entry  # host:port
        if not entry:
            continue
        if (
            entry == "*"
            or host.lower() == entry.lstrip(".")
            or host.lower().endswith("." + entry.lstrip("."))
        ):
            return True
        if "/" in entry:
            import ipaddress

            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False
