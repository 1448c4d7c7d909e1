"""The Registry port over the Docker Registry HTTP API v2 (distribution, ECR, GHCR, Hub ...).

``HEAD /v2/<name>/manifests/<tag>`` answers "does the base image exist" without
downloading anything. Authentication follows the ``WWW-Authenticate`` challenge:
Basic credentials directly, or the bearer-token flow (credentials to the realm,
the token to the registry). Stdlib only, so no SDK is imported.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from typing import Any

from deploytag.core.errors import ImageError, RetryableImageError, scrub
from deploytag.core.imageref import split_repository
from deploytag.ports.images import CredentialSource, ImageInfo, RegistryCredentials

log = logging.getLogger(__name__)

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
_PARAM = re.compile(r'(\w+)="([^"]*)"')


class RegistryAuthError(ImageError):
    pass


def insecure(host: str, insecure_hosts: Iterable[str]) -> bool:
    bare = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return host in insecure_hosts or bare in insecure_hosts


class RegistryV2:
    def __init__(
        self,
        *,
        credentials: CredentialSource,
        insecure_hosts: Iterable[str] = (),
        timeout_seconds: float = 10,
    ) -> None:
        self._credentials = credentials
        self._insecure = frozenset(insecure_hosts)
        self._timeout = timeout_seconds
        self._auth: dict[tuple[str, str], str] = {}  # (host, scope) -> Authorization header

    def manifest_digest(self, *, repository: str, tag: str) -> str | None:
        repo = split_repository(repository)
        status, headers, _ = self._request("HEAD", repo.host, repo.name, f"manifests/{tag}")
        if status == 404:
            return None
        digest = headers.get("Docker-Content-Digest")
        if not digest:  # some registries omit it on HEAD: ask with GET
            _, headers, _ = self._request("GET", repo.host, repo.name, f"manifests/{tag}")
            digest = headers.get("Docker-Content-Digest", "")
        return digest or None

    def labels(self, *, repository: str, tag: str) -> dict[str, str] | None:
        """The image config's labels (first platform of an index); None when the tag does not exist."""
        config = self._config(repository, tag)
        if config is None:
            return None
        labels = (config[1].get("config") or {}).get("Labels") or {}
        return {str(k): str(v) for k, v in labels.items()}

    def image_info(self, *, repository: str, tag: str) -> ImageInfo | None:
        config = self._config(repository, tag)
        if config is None:
            return None
        digest, body = config
        labels = (body.get("config") or {}).get("Labels") or {}
        return ImageInfo(
            digest=digest,
            labels={str(k): str(v) for k, v in labels.items()},
            created=str(body.get("created") or ""),
        )

    def delete_manifest(self, *, repository: str, digest: str) -> bool:
        repo = split_repository(repository)
        status, _, _ = self._request("DELETE", repo.host, repo.name, f"manifests/{digest}", action="delete")
        return status != 404

    def _config(self, repository: str, tag: str) -> tuple[str, dict[str, Any]] | None:
        """(manifest digest, image config) of the tag (first platform of an index); None when absent."""
        repo = split_repository(repository)
        status, headers, body = self._request("GET", repo.host, repo.name, f"manifests/{tag}")
        if status == 404:
            return None
        digest = str(headers.get("Docker-Content-Digest") or "sha256:" + hashlib.sha256(body).hexdigest())
        manifest = json.loads(body)
        if "manifests" in manifest:  # an index: every platform carries the same build inputs
            entries = manifest["manifests"]
            if not entries:
                return digest, {}
            status, _, body = self._request("GET", repo.host, repo.name, f"manifests/{entries[0]['digest']}")
            manifest = json.loads(body)
        config_digest = (manifest.get("config") or {}).get("digest")
        if not config_digest:
            return digest, {}
        status, _, body = self._request("GET", repo.host, repo.name, f"blobs/{config_digest}")
        if status == 404:
            return None
        config = json.loads(body)
        return digest, config if isinstance(config, dict) else {}

    def tags(self, *, repository: str) -> list[str]:
        repo = split_repository(repository)
        status, _, body = self._request("GET", repo.host, repo.name, "tags/list")
        if status == 404:
            return []
        return sorted(json.loads(body or b"{}").get("tags") or [])

    # ------------------------------------------------------------------ HTTP

    def _url(self, host: str, path: str) -> str:
        scheme = "http" if insecure(host, self._insecure) else "https"
        return f"{scheme}://{host}/v2/{path}"

    def _request(
        self, method: str, host: str, name: str, path: str, *, action: str = "pull"
    ) -> tuple[int, Any, bytes]:
        url = self._url(host, f"{name}/{path}")
        scope = f"repository:{name}:{action}"
        for attempt in range(2):
            headers = {"Accept": MANIFEST_TYPES}
            auth = self._auth.get((host, scope))
            if auth:
                headers["Authorization"] = auth
            status, reply, body = self._send(method, url, headers)
            if status == 401 and attempt == 0:
                self._auth[(host, scope)] = self._authorize(host, scope, reply.get("WWW-Authenticate", ""))
                continue
            if status in (401, 403):
                raise RegistryAuthError(
                    f"registry {host} refused access to {name} (HTTP {status})",
                    hint="check the registry credentials (build.registry_auth; docker login / env / ECR)",
                )
            if status == 404 or 200 <= status < 300:
                return status, reply, body
            error = RetryableImageError if status >= 500 or status == 429 else ImageError
            raise error(
                f"registry {host} answered HTTP {status} for {method} {path}: {scrub(body.decode(errors='replace'))[:200]}",
                hint="check build.registry and that the registry is up",
            )
        raise AssertionError("unreachable")

    def _send(self, method: str, url: str, headers: dict[str, str]) -> tuple[int, Any, bytes]:
        request = urllib.request.Request(url, method=method, headers=headers)  # noqa: S310  (https or configured http)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as resp:  # noqa: S310
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            reason = getattr(e, "reason", e)
            raise RetryableImageError(
                f"registry at {url.split('/v2/')[0]} is unreachable: {reason}",
                hint="check the registry host, the network, and build.insecure_registries for plain HTTP",
            ) from e

    def _authorize(self, host: str, scope: str, challenge: str) -> str:
        creds = self._credentials.credentials(host=host)
        kind, _, params_text = challenge.partition(" ")
        if kind.lower() == "basic":
            if creds is None:
                raise RegistryAuthError(
                    f"registry {host} needs a login and no credentials were found",
                    hint="docker login / podman login, or set DEPLOYTAG_REGISTRY_USERNAME and DEPLOYTAG_REGISTRY_PASSWORD",
                )
            return basic_header(creds)
        if kind.lower() != "bearer":
            raise RegistryAuthError(
                f"registry {host} asked for unsupported authentication {kind!r}",
                hint="use a registry with Basic or bearer-token authentication",
            )
        params = dict(_PARAM.findall(params_text))
        realm = params.get("realm", "")
        query = {"service": params.get("service", ""), "scope": params.get("scope", scope)}
        token_url = realm + "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v})
        headers = {"Authorization": basic_header(creds)} if creds else {}
        status, _, body = self._send("GET", token_url, headers)
        if status != 200:
            raise RegistryAuthError(
                f"token service {realm} refused the login for {host} (HTTP {status})",
                hint="check the registry credentials",
            )
        reply = json.loads(body or b"{}")
        token = reply.get("token") or reply.get("access_token")
        if not token:
            raise RegistryAuthError(f"token service {realm} returned no token", hint="check the registry")
        return f"Bearer {token}"


def basic_header(creds: RegistryCredentials) -> str:
    raw = f"{creds.username}:{creds.password}".encode()
    return "Basic " + base64.b64encode(raw).decode()
