"""ImageBuilder over ``docker buildx`` (BuildKit), for machines with a Docker daemon.

The image is loaded into the daemon (``--load``) and pushed afterwards, so a
failed build pushes nothing. Credentials go through a private DOCKER_CONFIG
directory holding a 0600 config.json, removed after the command.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from deploytag.adapters.images.buildah import (
    TAIL_LINES,
    build_then_push,
    dockerfile_build_flags,
    hosts_of,
    tail,
)
from deploytag.adapters.images.registry_auth import auth_file
from deploytag.core.errors import ImageError
from deploytag.ports.images import BuildRequest, CredentialSource
from deploytag.ports.runner import CommandRunner

if TYPE_CHECKING:
    from deploytag.core.config import BuildConfig
    from deploytag.ports.cluster import Cluster

_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")


class DockerBuildxBuilder:
    name = "docker"

    def __init__(
        self,
        *,
        runner: CommandRunner,
        credentials: CredentialSource,
        insecure_hosts: Iterable[str] = (),
        timeout_seconds: float = 1800,
    ) -> None:
        self._runner = runner
        self._credentials = credentials
        self._timeout = timeout_seconds

    @classmethod
    def from_config(
        cls,
        *,
        config: BuildConfig,
        runner: CommandRunner,
        credentials: CredentialSource,
        cluster: Callable[[], Cluster] | None,
        namespace: str,
    ) -> DockerBuildxBuilder:
        del cluster, namespace  # builds on this machine
        return cls(
            runner=runner,
            credentials=credentials,
            insecure_hosts=config.insecure_registries,
            timeout_seconds=config.timeout_seconds,
        )

    @classmethod
    def available(cls, runner: CommandRunner) -> bool:
        if runner.which(program="docker") is None:
            return False
        return (
            runner.run(argv=["docker", "buildx", "version"], check=False, timeout_seconds=20).returncode == 0
        )

    def _env(self, auth: Path | None) -> dict[str, str]:
        return {"DOCKER_CONFIG": str(auth.parent)} if auth is not None else {}

    def build(self, *, request: BuildRequest) -> str:
        with (
            tempfile.TemporaryDirectory(prefix="deploytag-build-") as tmp,
            auth_file(self._credentials, hosts_of(request.pulls), name="config.json") as auth,
        ):
            iidfile = Path(tmp) / "iid"
            argv = [
                "docker",
                "buildx",
                "build",
                "--load",
                "--iidfile",
                str(iidfile),
                "-f",
                str(request.dockerfile),
            ]
            argv += dockerfile_build_flags(request)
            argv.append(str(request.context))
            result = self._runner.run(
                argv=argv,
                cwd=request.context,
                env=self._env(auth),
                timeout_seconds=self._timeout,
                check=False,
            )
            if result.returncode != 0 or not iidfile.is_file():
                raise ImageError(
                    f"building {request.dockerfile.name} failed (docker exit {result.returncode}):\n{tail(result)}",
                    hint="fix the Dockerfile or the build context; nothing was pushed",
                )
            return iidfile.read_text().strip()

    def build_and_push(self, *, request: BuildRequest) -> str:
        return build_then_push(self, request)

    def push(self, *, image: str, reference: str) -> str:
        with auth_file(self._credentials, hosts_of([reference]), name="config.json") as auth:
            env = self._env(auth)
            tagged = self._runner.run(argv=["docker", "tag", image, reference], env=env, check=False)
            result = self._runner.run(
                argv=["docker", "push", reference], env=env, timeout_seconds=self._timeout, check=False
            )
        match = _DIGEST.search(result.stdout)
        if tagged.returncode != 0 or result.returncode != 0 or match is None:
            raise ImageError(
                f"pushing {reference} failed (docker exit {result.returncode}):\n{tail(result, TAIL_LINES // 2)}",
                hint="check the registry credentials and that the registry accepts pushes",
            )
        return match.group(1)
