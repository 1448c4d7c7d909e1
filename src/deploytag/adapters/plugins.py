"""Providers found through entry points, the built-ins included (like httpie's plugins).

A new secret store, cluster, builder, DNS provider, database engine or feedback platform is a module
in any installed package that declares an entry point in one of ``GROUPS``.
DeployTag's own providers are declared the same way, in its ``pyproject.toml``:
there is no second list to keep in step.
"""

from __future__ import annotations

import functools
import importlib
from importlib import metadata
from typing import Any

from deploytag.core.errors import ConfigError

# Entry point group -> the configuration key that names a provider in it.
GROUPS = {
    "deploytag.secret_stores": "secrets.provider",
    "deploytag.clusters": "cluster.provider",
    "deploytag.builders": "build.builder",
    "deploytag.dns": "dns.provider",
    "deploytag.databases": "database.engine",
    "deploytag.feedback": "feedback.provider",
}

# Import name of a missing package -> the extra that installs it.
_EXTRAS = {
    "boto": "aws",
    "kubernetes": "kubernetes",
    "psycopg": "postgres",
    "pymysql": "mysql",
    "cloudflare": "dns",
    "dns": "dns",
}


@functools.cache
def _own(group: str) -> dict[str, str]:
    """DeployTag's own entry points: one distribution's metadata, not a scan of all of them."""
    try:
        dist = metadata.distribution("deploytag")
    except metadata.PackageNotFoundError:
        return {}
    return {ep.name: ep.value for ep in dist.entry_points.select(group=group)}


def available(group: str) -> dict[str, str]:
    """Every provider in ``group``: name -> ``module:attribute``, from all installed distributions."""
    found = dict(_own(group))
    for ep in metadata.entry_points(group=group):
        found[ep.name] = ep.value
    return found


def load_provider(group: str, name: str) -> Any:
    """The class registered as ``name`` in ``group``; ConfigError listing the choices.

    DeployTag's own names resolve from its own metadata; other names scan every
    installed distribution's entry points (tens of milliseconds), so only they pay.
    """
    target = _own(group).get(name)
    choices: dict[str, str] = {}
    if target is None:
        choices = available(group)
        target = choices.get(name)
    if target is None:
        hint = f"use one of: {', '.join(sorted(choices))}"
        if not choices:
            hint = "install DeployTag (pip install -e . in a checkout): its providers are entry points"
        raise ConfigError(f"unknown provider {name!r} for {GROUPS.get(group, group)}", hint=hint)
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        extra = next((v for k, v in _EXTRAS.items() if str(e.name or "").startswith(k)), "all")
        raise ConfigError(
            f"provider {name!r} needs a package that is not installed ({e.name})",
            hint=f"pip install 'deploytag[{extra}]'",
        ) from e
    return getattr(module, attr)
