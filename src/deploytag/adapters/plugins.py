"""Providers found through entry points, the built-ins included (like httpie's plugins).

A new secret store, cluster, builder, DNS provider, database engine or feedback platform is a module
in any installed package that declares an entry point in one of ``GROUPS``.
DeployTag's own providers are declared the same way, in its ``pyproject.toml``:
there is no second list to keep in step.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
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


def own(group: str) -> dict[str, str]:
    """DeployTag's own providers in ``group``: name -> ``module:attribute``."""
    return dict(_own_entry_points().get(group, {}))


@functools.cache
def _own_entry_points() -> dict[str, dict[str, str]]:
    """DeployTag's entry points, read from its own ``entry_points.txt``. Importing
    ``importlib.metadata`` (it loads the ``email`` package) costs 15-20 ms, a tenth of a no-op
    deploy, so it is used only when the file is not found in one obvious place."""
    found = [
        os.path.join(entry, name, "entry_points.txt")
        for entry in dict.fromkeys(p or "." for p in sys.path)
        if os.path.isdir(entry)
        for name in os.listdir(entry)
        if name.startswith("deploytag-") and name.endswith(".dist-info")
    ]
    if len(found) == 1 and os.path.isfile(found[0]):
        with open(found[0], encoding="utf-8") as f:
            return _parse_entry_points(f.read())
    from importlib import metadata  # several installs, or an unusual layout: the standard reader

    try:
        dist = metadata.distribution("deploytag")
    except metadata.PackageNotFoundError:
        return {}
    groups: dict[str, dict[str, str]] = {}
    for ep in dist.entry_points:
        groups.setdefault(ep.group, {})[ep.name] = ep.value
    return groups


def _parse_entry_points(text: str) -> dict[str, dict[str, str]]:
    """The INI-like ``entry_points.txt``: ``[group]`` headers, ``name = module:attr`` lines."""
    groups: dict[str, dict[str, str]] = {}
    section: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = groups.setdefault(line[1:-1].strip(), {})
        elif section is not None and "=" in line:
            name, _, value = line.partition("=")
            section[name.strip()] = value.strip()
    return groups


def available(group: str) -> dict[str, str]:
    """Every provider in ``group``: name -> ``module:attribute``, from all installed distributions."""
    from importlib import metadata  # a scan of every distribution: only when a name is not ours

    found = own(group)
    for ep in metadata.entry_points(group=group):
        found[ep.name] = ep.value
    return found


def load_provider(group: str, name: str) -> Any:
    """The class registered as ``name`` in ``group``; ConfigError listing the choices.

    DeployTag's own names resolve from its own metadata; other names scan every
    installed distribution's entry points (tens of milliseconds), so only they pay.
    """
    target = own(group).get(name)
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
