"""ImageBuilder over buildah: daemonless, rootless-capable, the default where installed.

``buildah bud`` builds into local storage; ``buildah push`` uploads afterwards,
so a failed build pushes nothing. Registry credentials go through a 0600
``--authfile`` (never ``--creds``, which ``ps`` would show).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from deploytag.adapters.images.registry_auth import auth_file
from deploytag.adapters.images.registry_v2 import insecure
from deploytag.core.errors import ImageError
from deploytag.core.imageref import reference_host
from deploytag.ports.images import BuildRequest, CredentialSource, ImageBuilder
from deploytag.ports.runner import CommandResult, CommandRunner

if TYPE_CHECKING:
    from deploytag.core.config import BuildConfig
    from deploytag.ports.cluster import Cluster

log = logging.getLogger(__name__)

TAIL_LINES = 20
INSTALL_HINT = "install buildah (apt-get install buildah) or docker with buildx, or set build.builder"


def tail(result: CommandResult, lines: int = TAIL_LINES) -> str:
    """The builder's last lines: where the reason for a failed build is."""
    text = "\n".join(part.rstrip() for part in (result.stdout, result.stderr) if part.strip())
    return "\n".join(text.splitlines()[-lines:])


def hosts_of(references: Iterable[str]) -> list[str]:
    return [reference_host(ref) for ref in references]


def dockerfile_build_flags(request: BuildRequest) -> list[str]:
    """Tags, build args, labels and platform: spelt the same by `buildah bud` and `docker build`."""
    flags: list[str] = []
    for tag in request.tags:
        flags += ["-t", tag]
    for key, value in sorted(request.build_args.items()):
        flags += ["--build-arg", f"{key}={value}"]
    for key, value in sorted(request.labels.items()):
        flags += ["--label", f"{key}={value}"]
    if request.platform:
        flags += ["--platform", request.platform]
    return flags


def build_then_push(builder: ImageBuilder, request: BuildRequest) -> str:
    """Local build, then one push per tag: nothing reaches the registry unless the build succeeded."""
    image = builder.build(request=request)
    digests = {builder.push(image=image, reference=ref) for ref in request.tags}
    if len(digests) > 1:
        log.warning("tags %s were pushed with different digests: %s", list(request.tags), sorted(digests))
    return sorted(digests)[0]


class BuildahBuilder:
    name = "buildah"

    def __init__(
        self,
        *,
        runner: CommandRunner,
        credentials: CredentialSource,
        insecure_hosts: Iterable[str] = (),
        root: Path | None = None,
        runroot: Path | None = None,
        storage_driver: str | None = None,
        isolation: str = "chroot",
        timeout_seconds: float = 1800,
    ) -> None:
        self._runner = runner
        self._credentials = credentials
        self._insecure = frozenset(insecure_hosts)
        self._global: list[str] = []
        if root:
            self._global += ["--root", str(root)]
        if runroot:
            self._global += ["--runroot", str(runroot)]
        if storage_driver:
            self._global += ["--storage-driver", storage_driver]
        self._isolation = isolation
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
    ) -> BuildahBuilder:
        """``build.*``: buildah's storage and isolation (``BuilderSettings``), hosts and timeout."""
        del cluster, namespace  # builds on this machine
        return cls(
            runner=runner,
            credentials=credentials,
            insecure_hosts=config.insecure_registries,
            root=config.buildah_root,
            runroot=config.buildah_runroot,
            storage_driver=config.storage_driver,
            isolation=config.isolation,
            timeout_seconds=config.timeout_seconds,
        )

    @classmethod
    def available(cls, runner: CommandRunner) -> bool:
        return runner.which(program="buildah") is not None

    def _tls(self, hosts: Sequence[str]) -> list[str]:
        return ["--tls-verify=false"] if any(insecure(h, self._insecure) for h in hosts) else []

    def build(self, *, request: BuildRequest) -> str:
        pulls = hosts_of(request.pulls)
        with (
            tempfile.TemporaryDirectory(prefix="deploytag-build-") as tmp,
            auth_file(self._credentials, pulls) as auth,
        ):
            iidfile = Path(tmp) / "iid"
            argv = [
                "buildah",
                *self._global,
                "bud",
                "--isolation",
                self._isolation,
                "--iidfile",
                str(iidfile),
            ]
            argv += ["-f", str(request.dockerfile)]
            argv += dockerfile_build_flags(request)
            argv += self._tls(pulls)
            if auth is not None:
                argv += ["--authfile", str(auth)]
            argv.append(str(request.context))
            result = self._runner.run(
                argv=argv, cwd=request.context, timeout_seconds=self._timeout, check=False
            )
            if result.returncode != 0 or not iidfile.is_file():
                raise ImageError(
                    f"building {request.dockerfile.name} failed (buildah exit {result.returncode}):\n{tail(result)}",
                    hint="fix the Dockerfile or the build context; nothing was pushed",
                )
            return iidfile.read_text().strip()

    def build_and_push(self, *, request: BuildRequest) -> str:
        return build_then_push(self, request)

    def push(self, *, image: str, reference: str) -> str:
        hosts = hosts_of([reference])
        with (
            tempfile.TemporaryDirectory(prefix="deploytag-push-") as tmp,
            auth_file(self._credentials, hosts) as auth,
        ):
            digestfile = Path(tmp) / "digest"
            argv = ["buildah", *self._global, "push", "--digestfile", str(digestfile), *self._tls(hosts)]
            if auth is not None:
                argv += ["--authfile", str(auth)]
            argv += [image, f"docker://{reference}"]
            result = self._runner.run(argv=argv, timeout_seconds=self._timeout, check=False)
            if result.returncode != 0 or not digestfile.is_file():
                raise ImageError(
                    f"pushing {reference} failed (buildah exit {result.returncode}):\n{tail(result, 8)}",
                    hint="check the registry credentials and that the registry accepts pushes",
                )
            return digestfile.read_text().strip()
