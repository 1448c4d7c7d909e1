"""Steps 3 and 4: the base image (by content hash) and the app image (pinned by digest).

Both run before anything touches the cluster, so a failed build changes nothing
there. The app image is an ensure too: when every tag in the registry points at an
image labelled with the same inputs hash, nothing is built and the no-op
redeploy stays fast.
"""

from __future__ import annotations

from typing import Any

from deploytag.core.errors import ConfigError
from deploytag.steps.context import RunContext, StepResult, annotation, dumps
from deploytag.steps.imagebuild import (
    ImageResult,
    app_tags,
    build_app,
    ensure_base,
    plan_base,
    refuse_secrets_in_context,
)


def _skip_reason(ctx: RunContext) -> str | None:
    if not ctx.names.images:
        return "no images configured"
    if ctx.options.skip_build:
        return "--skip-build"
    if not ctx.loaded.config.build.enabled:
        return "build.enabled is false"
    return None


class BaseImageStep:
    name = "base"

    def run(self, ctx: RunContext) -> StepResult:
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
            ctx.images[ref.name] = result
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
        built = any(r.base_decision == "built" for r in ctx.images.values())
        return StepResult("changed" if built else "unchanged", "; ".join(details) or "no base images")


class AppImageStep:
    name = "image"

    def run(self, ctx: RunContext) -> StepResult:
        reason = _skip_reason(ctx)
        if reason:
            return StepResult("skipped", reason)
        build = ctx.loaded.config.build
        details = []
        for ref in ctx.names.images:
            image = ctx.loaded.config.images[ref.name]
            result = ctx.images[ref.name]
            build_app(
                ctx.loaded,
                image,
                result,
                builder=ctx.providers.image_builder,
                registry=ctx.providers.registry,
                platform=build.platform,
                push=build.push,
            )
            ctx.injected_values[image.values_key] = image_values(result)
            details.append(f"{result.pinned} {result.decision}")
        ctx.record[annotation("images")] = dumps(
            {
                r.name: {"commit": ctx.names.commit, "base": r.base, "digest": r.digest, "tags": r.tags}
                for r in ctx.images.values()
            }
        )
        built = any(r.decision == "built" for r in ctx.images.values())
        return StepResult("changed" if built else "unchanged", "; ".join(details))


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
