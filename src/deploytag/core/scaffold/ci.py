"""What both CI templates need, taken from the configuration that will be in effect (the one init
renders, or the deploytag.yaml already there), and DeployTag's branch globs translated into each
CI's own filter syntax."""

from __future__ import annotations

import re
from dataclasses import dataclass

from deploytag.core.config.schema import Config
from deploytag.core.errors import ConfigError, UsageError

CI_CHOICES = ("github", "gitlab")


def check_ci(value: str | None) -> str | None:
    """``--ci``'s value, or one line saying what it may be."""
    if value is None or value in CI_CHOICES:
        return value
    raise UsageError(
        f"--ci {value!r} is not a CI DeployTag writes for", hint="use --ci github or --ci gitlab"
    )


@dataclass(frozen=True)
class CiSettings:
    app: str
    previews: tuple[str, ...]
    permanent: dict[str, str]  # branch -> environment
    database: bool  # the deploy needs DEPLOYTAG_DATABASE_ADMIN_URL
    package: str  # what `pip install` installs: deploytag with the extras the config needs
    registry: str | None  # image repository (None: no images to build)
    ttl_hours: int
    setup: tuple[str, ...]  # toolchains the test command needs besides Python: node, go

    @property
    def registry_host(self) -> str:
        return (self.registry or "").split("/", 1)[0]


def ci_settings(config: Config) -> CiSettings:
    engine = config.database.engine
    extras: list[str] = [engine] if engine else []
    dns = config.dns.provider
    if config.secrets.provider == "aws" or dns == "route53" or config.build.registry_auth == "ecr":
        extras.append("aws")
    if dns in ("cloudflare", "rfc2136"):
        extras.append("dns")
    command = config.test.command[0] if config.test.command else ""
    permanent = {branch: p.environment for branch, p in config.branches.permanent.items()}
    for name in (*permanent, *permanent.values()):
        if not _SAFE_NAME.match(name):
            raise ConfigError(
                f"branches.permanent: {name!r} cannot be written into a CI rule or job name",
                hint="use letters, digits and . _ / - (or write that part of the workflow by hand)",
            )
    return CiSettings(
        app=config.app,
        previews=tuple(config.branches.previews),
        permanent=permanent,
        database=engine is not None,
        package=f"deploytag[{','.join(extras)}]" if extras else "deploytag",
        registry=next((image.repository for image in config.images.values()), None),
        ttl_hours=round(config.ttl_hours) if config.ttl_hours else 168,
        setup={"npm": ("node",), "go": ("go",)}.get(command, ()),
    )


_SIMPLE_GLOB = re.compile(r"^[A-Za-z0-9._/*-]+$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9._/-]+$")


def github_branch_filters(patterns: tuple[str, ...]) -> tuple[str, ...]:
    """DeployTag's globs (fnmatch: ``*`` crosses ``/``) as GitHub branch filters (``**`` does).
    A pattern GitHub's syntax reads differently (``?``, ``[...]``) widens the filter to every
    branch: DeployTag itself skips a branch that matches no rule, exit 0."""
    if not all(_SIMPLE_GLOB.match(p) for p in patterns):
        return ("**",)
    return tuple(re.sub(r"\*+", "**", p) for p in patterns)


def gitlab_branch_regex(patterns: tuple[str, ...]) -> str:
    """The globs as one RE2 regular expression literal for ``rules: if: $CI_COMMIT_BRANCH =~``."""
    if not all(_SIMPLE_GLOB.match(p) for p in patterns):
        return "/.*/"
    parts = [re.escape(p).replace(r"\*", ".*").replace("/", r"\/") for p in patterns]
    return "/^(" + "|".join(parts) + ")$/"


def gitlab_duration(hours: int) -> str:
    """``auto_stop_in``: GitLab reads human durations."""
    return "1 week" if hours == 168 else f"{hours} hours"
