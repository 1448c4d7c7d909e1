"""Steps 3 and 4: the base image (by content hash) and the app image (pinned by digest).

Both run before anything touches the cluster, so a failed build changes nothing
there. The app image is an ensure too: when every tag in the registry points at an
image labelled with the same inputs hash, nothing is built and the no-op
redeploy stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deploytag.capabilities.base import Capability, PlanRequest
from deploytag.capabilities.context import RunContext, StepResult, annotation, dumps
from deploytag.capabilities.imagebuild import (
    ImageResult,
    app_tags,
    build_app,
    build_args,
    ensure_base,
    plan_base,
    refuse_secrets_in_context,
)
from deploytag.capabilities.outputs import BuiltImages, ImageValues
from deploytag.capabilities.status import recorded_json
from deploytag.core.config import LoadedConfig
from deploytag.core.errors import ConfigError
from deploytag.core.naming import NamePlan


def _skip_reason(ctx: RunContext) -> str | None:
    if not ctx.names.images:
        return "no images configured"
    if ctx.options.skip_build:
        return "--skip-build"
    if not ctx.loaded.config.build.enabled:
        return "build.enabled is false"
    return None


class BaseImageStep(Capability):
    """Images: the base image by content hash; also what plan and status say about images."""

    name = "base"
    provides = (BuiltImages,)

    def applies(self, *, loaded: LoadedConfig, names: NamePlan) -> bool:
        return bool(names.images)

    def plan(self, *, request: PlanRequest) -> Mapping[str, Any]:
        images = request.names.images
        return {
            "images": [{"name": i.name, "repository": i.repository, "tags": list(i.tags)} for i in images]
        }

    def preflight(self, *, ctx: RunContext) -> None:
        if _skip_reason(ctx) is None:
            build_args(ctx.loaded)  # no secret-looking build args
            for ref in ctx.names.images:
                plan_base(ctx.loaded, ctx.loaded.config.images[ref.name])  # Dockerfile.base exists and parses
            _ = ctx.providers.image_builder  # installed, or a hint saying what to install

    def status(self, *, annotations: Mapping[str, str]) -> Mapping[str, Any]:
        return {"images": recorded_json(annotations, "images")}

    def ensure(self, *, ctx: RunContext) -> StepResult:
        images: dict[str, ImageResult] = {}
        ctx.outputs.put(BuiltImages(images))
        reason = _skip_reason(ctx)
        if reason:
            return StepResult("skipped", reason)
        build = ctx.loaded.config.build
        refuse_secret_store_keys(ctx)
        details = []
        for ref in ctx.names.images:
            image = ctx.loaded.config.images[ref.name]
            tags = app_tags(ref, branch=ctx.names.branch, latest_branch=build.latest_branch)
            result = ImageResult(name=ref.name, repository=ref.repository, tags=tags)
            images[ref.name] = result
            plan = plan_base(ctx.loaded, image)
            refuse_secrets_in_context(ctx.loaded, ctx.loaded.resolve(image.context))
            if plan is None:
                continue
            ensure_base(
                plan,
                registry=ctx.providers.registry,
                builder=ctx.providers.image_builder,
                push=build.push,
                result=result,
            )
            details.append(f"{plan.reference} {result.base_decision}")
        built = any(r.base_decision == "built" for r in images.values())
        return StepResult("changed" if built else "unchanged", "; ".join(details) or "no base images")


class AppImageStep(Capability):
    """Images: the app image FROM the base, pinned by digest into the chart's values."""

    name = "image"
    needs = (BuiltImages,)
    provides = (ImageValues,)

    def applies(self, *, loaded: LoadedConfig, names: NamePlan) -> bool:
        return bool(names.images)

    def ensure(self, *, ctx: RunContext) -> StepResult:
        values: dict[str, Mapping[str, Any]] = {}
        ctx.outputs.put(ImageValues(values))
        reason = _skip_reason(ctx)
        if reason:
            return StepResult("skipped", reason)
        images = ctx.outputs.get(BuiltImages).results
        build = ctx.loaded.config.build
        details = []
        for ref in ctx.names.images:
            image = ctx.loaded.config.images[ref.name]
            result = images[ref.name]
            build_app(
                ctx.loaded,
                image,
                result,
                builder=ctx.providers.image_builder,
                registry=ctx.providers.registry,
                platform=build.platform,
                push=build.push,
            )
            values[image.values_key] = image_values(result)
            details.append(f"{result.pinned} {result.decision}")
        record = dumps(
            {
                r.name: {"commit": ctx.names.commit, "base": r.base, "digest": r.digest, "tags": r.tags}
                for r in images.values()
            }
        )
        built = any(r.decision == "built" for r in images.values())
        return StepResult(
            "changed" if built else "unchanged", "; ".join(details), {annotation("images"): record}
        )


def refuse_secret_store_keys(ctx: RunContext) -> None:
    """A build arg named like a secret from the store is that secret, baked into the image history."""
    args, ids = ctx.loaded.config.build.args, ctx.loaded.config.secrets.ids
    if not args or not ids:
        return
    clash = sorted(set(args) & set(ctx.providers.secret_store.describe_keys(ids=ids)))
    if clash:
        raise ConfigError(
            f"build argument {clash[0]!r} has the name of a secret in the secret store",
            hint="secrets reach the app at run time through the chart's Secret; remove it from build.args",
        )


def image_values(result: ImageResult) -> dict[str, Any]:
    """What the chart gets: the digest pins the image; the tag stays for people reading it."""
    values: dict[str, Any] = {"repository": result.repository, "tag": result.tags[0]}
    if result.digest:
        values["digest"] = result.digest
    return values
