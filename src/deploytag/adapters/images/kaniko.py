"""ImageBuilder over kaniko: a Kubernetes Job that builds from git and pushes in one step.

kaniko cannot see this machine's files, so the context is the repository's
remote at the checked-out commit (``git://host/org/repo.git#<ref>#<sha>``); a
checkout whose build context differs from that commit is refused, since the
image would not match the content hash DeployTag computed locally. Registry
credentials go into a Secret mounted at /kaniko/.docker (config.json), never
into the Job's args. kaniko pushes only after the whole build succeeded. The
digest comes back as the container's termination message (``--digest-file
/dev/termination-log``, which the kubelet reports in the pod status); kaniko's
``Pushed ...@sha256:`` log line is the fallback.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit, urlunsplit

from deploytag.adapters.images.buildah import hosts_of
from deploytag.adapters.images.kaniko_context import context_tarball
from deploytag.adapters.images.registry_auth import auths_for
from deploytag.adapters.images.registry_v2 import insecure
from deploytag.adapters.images.settings import KanikoConfig
from deploytag.core.errors import CommandError, ConfigError, ImageError, ToolMissingError
from deploytag.ports.cluster import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Cluster, JobSpec
from deploytag.ports.images import BuildRequest, CredentialSource
from deploytag.ports.runner import CommandRunner

if TYPE_CHECKING:
    from deploytag.core.config import BuildConfig

log = logging.getLogger(__name__)

DOCKER_CONFIG_DIR = "/kaniko/.docker"
TERMINATION_LOG = "/dev/termination-log"
LOG_LINES = 20
_PUSHED = re.compile(r"Pushed \S+@(sha256:[0-9a-f]{64})")
_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?([^:/]+):(.+)$")  # git@github.com:org/repo.git


def kaniko_git_url(remote: str) -> str:
    """kaniko's ``git://`` form of a remote (https, ssh, scp-like, file or a local path).

    kaniko clones ``git://X`` as ``https://X``; userinfo (a token) is dropped, since
    the context travels in the Job's args.
    """
    if "://" in remote:
        parts = urlsplit(remote)
        if parts.scheme == "file":
            return f"git://{parts.path}"
        host = parts.hostname or ""
        if parts.port and parts.scheme in ("http", "https"):
            host = f"{host}:{parts.port}"
        return urlunsplit(("git", host, parts.path, "", ""))
    if remote.startswith("/"):
        return f"git://{remote}"  # local repositories: the tests' kaniko stand-in only
    match = _SCP_LIKE.match(remote)
    if match is None:
        raise ConfigError(
            f"cannot turn git remote {remote!r} into a kaniko context", hint="set build.kaniko.git_url"
        )
    return f"git://{match.group(1)}/{match.group(2).lstrip('/')}"


class ContextStore(Protocol):
    def ensure_object(self, *, bucket: str, key: str, body: bytes) -> bool: ...


class KanikoBuilder:
    name = "kaniko"

    def __init__(
        self,
        *,
        runner: CommandRunner,
        credentials: CredentialSource,
        cluster: Callable[[], Cluster],
        namespace: str,
        kaniko: KanikoConfig,
        insecure_hosts: Iterable[str] = (),
        timeout_seconds: float = 1800,
        context_store: ContextStore | None = None,
    ) -> None:
        if kaniko.context == "s3" and (context_store is None or not kaniko.s3_bucket):
            raise ConfigError(
                "build.kaniko.context is s3 but no bucket is set", hint="set build.kaniko.s3_bucket"
            )
        self._store = context_store
        self._runner = runner
        self._credentials = credentials
        self._cluster = cluster
        self._namespace = kaniko.namespace or namespace
        self._config = kaniko
        self._insecure = frozenset(insecure_hosts)
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
    ) -> KanikoBuilder:
        """A Job in ``namespace`` (``build.kaniko.namespace`` wins); s3 contexts go through boto3."""
        if cluster is None:
            raise ToolMissingError("the kaniko builder needs a cluster", hint="configure cluster:")
        context_store: ContextStore | None = None
        if config.kaniko.context == "s3":
            from deploytag.adapters.images.s3_context import S3ContextStore

            context_store = S3ContextStore()
        return cls(
            runner=runner,
            credentials=credentials,
            cluster=cluster,
            namespace=namespace,
            kaniko=config.kaniko,
            insecure_hosts=config.insecure_registries,
            timeout_seconds=config.timeout_seconds,
            context_store=context_store,
        )

    @classmethod
    def available(cls, runner: CommandRunner) -> bool:
        return True  # it needs a cluster, not a local binary; chosen only by configuration

    def build_and_push(self, *, request: BuildRequest) -> str:
        result_message, logs = self._run(request, push=True)
        digest = result_message.strip()
        if not digest.startswith("sha256:"):
            found = _PUSHED.findall(logs)
            digest = found[-1] if found else ""
        if not digest:
            raise ImageError(
                f"kaniko built {request.dockerfile.name} but reported no digest:\n{logs}",
                hint="check that the executor image is kaniko and supports --digest-file",
            )
        return digest

    def build(self, *, request: BuildRequest) -> str:
        self._run(request, push=False)
        return ""  # kaniko keeps no local image

    def push(self, *, image: str, reference: str) -> str:
        raise ImageError(
            "kaniko pushes while it builds; there is no local image to push",
            hint="use build_and_push (build.push: true) with build.builder kaniko",
        )

    # ------------------------------------------------------------------------------------------

    def _git(self, cwd: Path, *args: str) -> str:
        try:
            result = self._runner.run(argv=["git", "-C", str(cwd), *args], timeout_seconds=30)
        except CommandError as e:
            raise ConfigError(
                f"kaniko builds from git, but git {args[0]} failed in {cwd}: {e.message}",
                hint="run deploytag from a git checkout whose commit is pushed to its remote",
            ) from e
        return result.stdout.strip()

    def _s3_context(self, request: BuildRequest) -> tuple[str, str, str]:
        context = request.context.resolve()
        try:
            dockerfile = request.dockerfile.resolve().relative_to(context).as_posix()
        except ValueError as e:
            raise ConfigError(
                f"{request.dockerfile} is outside the build context {context}",
                hint="kaniko reads the Dockerfile from the uploaded context; move it inside",
            ) from e
        body, digest = context_tarball(context, dockerfile)
        bucket, prefix = self._config.s3_bucket or "", self._config.s3_prefix.strip("/")
        key = f"{prefix}/{digest}.tar.gz" if prefix else f"{digest}.tar.gz"
        assert self._store is not None  # checked in __init__
        uploaded = self._store.ensure_object(bucket=bucket, key=key, body=body)
        log.info("build context s3://%s/%s %s", bucket, key, "uploaded" if uploaded else "already there")
        return f"s3://{bucket}/{key}", "", dockerfile

    def _context(self, request: BuildRequest) -> tuple[str, str, str]:
        """(kaniko --context, --context-sub-path, --dockerfile relative to that sub path)."""
        if self._config.context == "s3":
            return self._s3_context(request)
        top = Path(self._git(request.context, "rev-parse", "--show-toplevel")).resolve()
        context = request.context.resolve()
        sub = context.relative_to(top).as_posix()
        changed = self._git(top, "diff", "--name-only", "HEAD", "--", sub or ".")
        if changed:
            first = changed.splitlines()[0]
            raise ConfigError(
                f"kaniko builds the pushed commit, but {first} has uncommitted changes",
                hint="commit and push them first (the image would not match what DeployTag hashed)",
            )
        sha = self._git(top, "rev-parse", "HEAD")
        remote = self._config.git_url or self._git(top, "remote", "get-url", "origin")
        if "://" not in remote and not _SCP_LIKE.match(remote):
            remote = str((top / remote).resolve())  # a local path remote, as git resolves it
        ref = self._config.git_ref or ""
        if not ref:
            branch = self._git(top, "rev-parse", "--abbrev-ref", "HEAD")
            ref = f"refs/heads/{branch}" if branch != "HEAD" else ""
        dockerfile = request.dockerfile.resolve().relative_to(context).as_posix()
        return f"{kaniko_git_url(remote)}#{ref}#{sha}", "" if sub == "." else sub, dockerfile

    def _args(self, request: BuildRequest, push: bool) -> list[str]:
        context, sub, dockerfile = self._context(request)
        args = [f"--context={context}", f"--dockerfile={dockerfile}"]
        if sub:
            args.append(f"--context-sub-path={sub}")
        args += [f"--destination={tag}" for tag in request.tags]
        args += [f"--build-arg={k}={v}" for k, v in sorted(request.build_args.items())]
        args += [f"--label={k}={v}" for k, v in sorted(request.labels.items())]
        if request.platform:
            args.append(f"--custom-platform={request.platform}")
        hosts = sorted(set(hosts_of([*request.tags, *request.pulls])))
        args += [f"--insecure-registry={h}" for h in hosts if insecure(h, self._insecure)]
        args.append(f"--digest-file={TERMINATION_LOG}" if push else "--no-push")
        return args

    def _run(self, request: BuildRequest, *, push: bool) -> tuple[str, str]:
        args = self._args(request, push)
        cluster = self._cluster()
        name = "kaniko-" + hashlib.sha256(request.tags[0].encode()).hexdigest()[:16]
        labels = {MANAGED_BY_LABEL: MANAGED_BY_VALUE, "deploytag.dev/job": "kaniko"}
        auths = auths_for(self._credentials, hosts_of([*request.tags, *request.pulls]))
        cluster.apply_secret(
            namespace=self._namespace,
            name=f"{name}-docker",
            data={"config.json": json.dumps({"auths": auths})},
            labels=labels,
            annotations={},
        )
        spec = JobSpec(
            namespace=self._namespace,
            name=name,
            image=self._config.image,
            command=(),
            args=args,
            labels=labels,
            secret_mounts={DOCKER_CONFIG_DIR: f"{name}-docker"},
        )
        log.info("kaniko Job %s/%s builds %s", self._namespace, name, request.tags[0])
        try:
            result = cluster.run_job(spec=spec, timeout_seconds=self._timeout, log_lines=LOG_LINES)
        finally:
            # The credentials are needed only while the Job runs; a run killed before this
            # leaves them to the orphan sweep (service.orphans: kaniko-secret).
            cluster.delete_secret(namespace=self._namespace, name=f"{name}-docker")
        if not result.succeeded:
            raise ImageError(
                f"building {request.dockerfile.name} failed (kaniko Job {self._namespace}/{name}: "
                f"{result.reason}):\n{result.logs.rstrip()}",
                hint="fix the Dockerfile or the build context; kaniko pushes only after a successful build, "
                "so nothing was pushed",
            )
        return result.message, result.logs
