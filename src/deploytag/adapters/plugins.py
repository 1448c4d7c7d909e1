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
    """DeployTag's entry points, from its own ``entry_points.txt`` (see ``_installed``)."""
    installed = _installed()
    found = [path for name, path in installed or () if name == "deploytag"]
    if len(found) == 1:
        return _read_entry_points(found[0])
    from importlib import metadata  # not found in one plain place: the standard reader

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
    found = own(group)
    installed = _installed()
    if installed is None:
        from importlib import metadata  # a path entry that is not a directory (a zip): the standard reader

        found.update({ep.name: ep.value for ep in metadata.entry_points(group=group)})
        return found
    for _, path in installed:
        found.update(_read_entry_points(path).get(group, {}))
    return found


@functools.cache
def _installed() -> tuple[tuple[str, str], ...] | None:
    """(normalised name, ``entry_points.txt``) of each distribution on ``sys.path`` that has one,
    the first of a name winning, as ``importlib.metadata`` finds them; None when a path entry
    is not a plain directory (a zip), which only ``importlib.metadata`` reads.

    Importing ``importlib.metadata`` (it loads the ``email`` package) costs 15-20 ms, a tenth of
    a no-op deploy; listing the few ``sys.path`` directories and reading these small files does
    not (tests/core/test_plugins.py checks both agree).
    """
    found: dict[str, str] = {}
    for entry in dict.fromkeys(p or "." for p in sys.path):
        if not os.path.exists(entry):
            continue
        if not os.path.isdir(entry):
            return None
        for name in sorted(os.listdir(entry)):
            stem, dot, kind = name.rpartition(".")
            if not dot or kind not in ("dist-info", "egg-info"):
                continue
            key = stem.split("-", 1)[0].lower().replace("-", "_").replace(".", "_")
            path = os.path.join(entry, name, "entry_points.txt")
            if key not in found and os.path.isfile(path):
                found[key] = path
            else:
                found.setdefault(key, "")
    return tuple((name, path) for name, path in found.items() if path)


def _read_entry_points(path: str) -> dict[str, dict[str, str]]:
    with open(path, encoding="utf-8") as f:
        return _parse_entry_points(f.read())


def load_provider(group: str, name: str) -> Any:
    """The class registered as ``name`` in ``group``; ConfigError listing the choices.

    DeployTag's own names resolve from its own ``entry_points.txt``; other names read
    every installed distribution's, so only they pay for that.
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
