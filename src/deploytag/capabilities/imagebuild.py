"""Base and app image builds over the ImageBuilder and Registry ports.

Shared by the deploy steps (steps.images) and ``deploytag build``. The base
image is found by content (its tag is the content hash) and built only when the
registry lacks it; the app image is built FROM it and pushed under the commit
tag, the branch tag and, for the production branch, ``latest``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import msgspec

from deploytag.core.config import ImageConfig, LoadedConfig
from deploytag.core.dockerfile import HeredocError, parse
from deploytag.core.dockerignore import IgnoreMatcher, context_files
from deploytag.core.errors import ConfigError
from deploytag.core.imagehash import content_hash, read_dockerfile
from deploytag.core.imageref import check_build_args, secret_files, split_repository
from deploytag.core.naming import ImageRef
from deploytag.ports.images import BuildRequest, ImageBuilder, Registry

log = logging.getLogger(__name__)

BASE_ARG = "BASE_IMAGE"
INPUTS_LABEL = "dev.deploytag.inputs"  # content hash of everything the app build reads


class BasePlan(msgspec.Struct, frozen=True):
    repository: str
    tag: str
    dockerfile: Path
    context: Path
    build_args: Mapping[str, str]
    pulls: Sequence[str]
    files: int  # context files hashed

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}"


class ImageResult(msgspec.Struct):
    """What one image's build decided; recorded on the namespace and printed by `build`."""

    name: str
    repository: str
    tags: list[str]
    base: str | None = None  # base reference (repo:hash)
    base_decision: str = "none"  # none, cached, built
    base_digest: str | None = None
    decision: str = "skipped"  # built, unchanged, skipped
    digest: str | None = None
    seconds: dict[str, float] = msgspec.field(default_factory=dict)

    @property
    def pinned(self) -> str:
        ref = f"{self.repository}:{self.tags[0]}"
        return f"{ref}@{self.digest}" if self.digest else ref


def base_repository(image: ImageConfig) -> str:
    return image.base_repository or f"{image.repository}-base"


def build_args(loaded: LoadedConfig) -> dict[str, str]:
    args = dict(loaded.config.build.args)
    check_build_args(args)
    return args


def plan_base(loaded: LoadedConfig, image: ImageConfig) -> BasePlan | None:
    """The base image's reference from its content; None when the image has no base."""
    if image.base_dockerfile is None:
        return None
    context = loaded.resolve(image.context)
    dockerfile = loaded.resolve(image.base_dockerfile)
    args = build_args(loaded)
    found = content_hash(context=context, dockerfile=dockerfile, build_args=args)
    parsed = parse(read_dockerfile(dockerfile).decode(), name=dockerfile.name)
    repository = base_repository(image)
    split_repository(repository)  # a bad name fails here, before any build
    return BasePlan(
        repository=repository,
        tag=found.tag,
        dockerfile=dockerfile,
        context=context,
        build_args=found.build_args,
        pulls=parsed.base_images(found.build_args),
        files=len(found.files),
    )


def refuse_secrets_in_context(loaded: LoadedConfig, context: Path) -> None:
    """A file the builder would send that holds credentials would end up in a layer."""
    extra: list[str] = []
    secrets_file = loaded.resolve(loaded.config.secrets.file)
    if secrets_file.resolve().is_relative_to(context.resolve()):  # outside it cannot be sent
        extra.append(secrets_file.resolve().relative_to(context.resolve()).as_posix())
    found = secret_files(context_files(context, IgnoreMatcher.for_context(context)), extra=extra)
    if found:
        shown = ", ".join(found[:5]) + (" ..." if len(found) > 5 else "")
        raise ConfigError(
            f"the build context {context} would send secret files into the image: {shown}",
            hint="exclude them in .dockerignore (DeployTag passes secrets at run time, never at build time)",
        )


def ensure_base(
    plan: BasePlan, *, registry: Registry, builder: ImageBuilder, push: bool, result: ImageResult
) -> None:
    result.base = plan.reference
    digest = registry.manifest_digest(repository=plan.repository, tag=plan.tag)
    if digest is not None:
        result.base_decision, result.base_digest = "cached", digest
        return
    request = BuildRequest(
        context=plan.context,
        dockerfile=plan.dockerfile,
        tags=[plan.reference],
        build_args=plan.build_args,
        pulls=plan.pulls,
    )
    if push:
        result.base_digest = builder.build_and_push(request=request)
    else:
        builder.build(request=request)
    result.base_decision = "built"


def app_tags(ref: ImageRef, *, branch: str, latest_branch: str | None) -> list[str]:
    tags = list(dict.fromkeys(ref.tags))
    if latest_branch is not None and branch == latest_branch:
        tags.append("latest")
    return tags


def build_app(
    loaded: LoadedConfig,
    image: ImageConfig,
    result: ImageResult,
    *,
    builder: ImageBuilder,
    registry: Registry,
    platform: str | None,
    push: bool,
) -> None:
    """Build and push the app image unless the registry already has these exact inputs under its tags.

    The inputs hash (Dockerfile, build args including BASE_IMAGE, copied files) is stored
    as an image label, so the check needs no state outside the registry.
    """
    context = loaded.resolve(image.context)
    dockerfile = loaded.resolve(image.dockerfile)
    refuse_secrets_in_context(loaded, context)
    args = build_args(loaded)
    pulls: list[str] = []
    if result.base is not None:
        args[BASE_ARG] = result.base
        pulls.append(result.base)
    try:
        inputs = content_hash(context=context, dockerfile=dockerfile, build_args=args).digest
    except HeredocError:
        inputs = ""  # cannot tell what it reads: always build
        read_dockerfile(dockerfile)
    if push and inputs and (digest := current_digest(registry, result, inputs)):
        result.decision, result.digest = "unchanged", digest
        return
    references = [f"{result.repository}:{t}" for t in result.tags]
    request = BuildRequest(
        context=context,
        dockerfile=dockerfile,
        tags=references,
        build_args=dict(sorted(args.items())),
        platform=platform,
        pulls=pulls,
        labels={INPUTS_LABEL: inputs} if inputs else {},
    )
    if push:
        result.digest = builder.build_and_push(request=request)
    else:
        builder.build(request=request)
    result.decision = "built"


def current_digest(registry: Registry, result: ImageResult, inputs: str) -> str | None:
    """The digest every tag already points at, when that image was built from ``inputs``."""
    digests = {registry.manifest_digest(repository=result.repository, tag=t) for t in result.tags}
    if len(digests) != 1 or None in digests:
        return None
    labels = registry.labels(repository=result.repository, tag=result.tags[0]) or {}
    return digests.pop() if labels.get(INPUTS_LABEL) == inputs else None
