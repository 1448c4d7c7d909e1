"""DeployTag's configuration: the app repository's ``deploytag.yaml``.

One loader (``load_config``) with written precedence, highest first:

1. command-line flags (passed in as dotted keys, e.g. ``{"secrets.provider": "aws"}``)
2. ``DEPLOYTAG_*`` environment variables; ``__`` separates nesting levels, so
   ``DEPLOYTAG_CHART__TIMEOUT_SECONDS=600`` sets ``chart.timeout_seconds``; a list
   is comma-separated (``DEPLOYTAG_SECRETS__IDS=staging/app,staging/extra``)
3. ``deploytag.yaml`` in the app repository
4. the defaults of the schema (``schema``), each documented with its unit and why it is what it is

Every field records where its value came from; ``deploytag config --explain``
prints that.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from deploytag.core import yamlio
from deploytag.core.config import errors
from deploytag.core.config.schema import Config
from deploytag.core.errors import ConfigError
from deploytag.core.settingsmodel import convert, to_data

CONFIG_FILE = "deploytag.yaml"
ENV_PREFIX = "DEPLOYTAG_"


class LoadedConfig(msgspec.Struct, frozen=True):
    """The effective configuration and where each leaf value came from."""

    config: Config
    root: Path  # the app repository (directory holding deploytag.yaml)
    file: Path | None
    sources: Mapping[str, str] = msgspec.field(default_factory=dict)  # dotted key -> source

    def resolve(self, path: Path) -> Path:
        """A path from the configuration, relative to the app repository."""
        return path if path.is_absolute() else self.root / path


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}", hint="check the path and permissions") from e
    try:
        data = yamlio.load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(e, "problem", None) or "invalid YAML"
        raise ConfigError(f"{where}: {problem}", hint="fix the YAML syntax") from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping", hint="start with 'app: <name>'")
    return data


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = target
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def _env_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    """``DEPLOYTAG_CHART__TIMEOUT_SECONDS`` -> ``chart.timeout_seconds``."""
    out: dict[str, str] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name.startswith(f"{ENV_PREFIX}TEST_"):
            continue
        key = name[len(ENV_PREFIX) :].lower().replace("__", ".")
        if key in _NOT_CONFIG_ENV:
            continue
        out[key] = raw
    return out


# DEPLOYTAG_* variables that are run inputs or CLI switches, not configuration.
_NOT_CONFIG_ENV = {"branch", "commit", "output", "debug", "config", "repo", "database_admin_url"}
# Registry credentials (build.registry_auth: env) are secrets, never configuration.
_NOT_CONFIG_ENV |= {"registry_username", "registry_password"}


# pydantic's words for booleans, kept for DEPLOYTAG_* variables (YAML has its own).
_BOOL_WORDS = {"1": True, "on": True, "t": True, "true": True, "y": True, "yes": True}
_BOOL_WORDS |= {"0": False, "off": False, "f": False, "false": False, "n": False, "no": False}


def _coerce_env(key: str, raw: str) -> Any:
    """Env values are strings; lists are comma-separated, mappings JSON."""
    field_type = errors.leaf_type(Config, key.split("."))
    if raw.startswith(("[", "{")):
        import json

        try:
            return json.loads(raw)
        except ValueError as e:
            raise ConfigError(
                f"environment variable {ENV_PREFIX}{key.upper().replace('.', '__')}: invalid JSON",
                hint="give a comma-separated list or valid JSON",
            ) from e
    if errors.is_list(field_type):
        return [item.strip() for item in raw.split(",") if item.strip()]
    if errors.is_bool(field_type) and raw.strip().lower() in _BOOL_WORDS:
        return _BOOL_WORDS[raw.strip().lower()]
    return raw


def parse_config(data: Mapping[str, Any]) -> Config:
    """Validate a ``deploytag.yaml`` mapping (merged with env and flags) into a Config.

    Raises msgspec.ValidationError; ``load_config`` turns it into one ConfigError line.
    """
    return convert(_yaml_spellings(data), Config)


def _yaml_spellings(data: Mapping[str, Any]) -> Mapping[str, Any]:
    # YAML 1.1 reads a bare `off` as false; people write `lint: {severity: {rule: off}}` unquoted.
    lint = data.get("lint")
    severity = lint.get("severity") if isinstance(lint, dict) else None
    if not isinstance(lint, dict) or not isinstance(severity, dict) or False not in severity.values():
        return data
    fixed = {k: "off" if v is False else v for k, v in severity.items()}
    return {**data, "lint": {**lint, "severity": fixed}}


def find_config(start: Path) -> Path | None:
    """``deploytag.yaml`` in ``start`` or the nearest parent directory."""
    start = start.resolve()
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def load_config(
    *,
    repo: Path,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> LoadedConfig:
    """Load, merge by precedence and validate; raise one ConfigError naming file and key."""
    environ = os.environ if environ is None else environ
    path = config_file if config_file is not None else find_config(repo)
    if config_file is not None and not config_file.is_file():
        raise ConfigError(
            f"configuration file {config_file} not found",
            hint="pass --config with an existing file or create deploytag.yaml",
        )
    if path is None:
        raise ConfigError(
            f"no {CONFIG_FILE} in {repo.resolve()} or its parents",
            hint="run deploytag from the app repository or pass --repo/--config (see docs/configuration.md)",
        )
    root = path.parent
    file_data = _read_yaml(path)
    merged: dict[str, Any] = _deep_copy(file_data)
    sources: dict[str, str] = dict.fromkeys(flatten(file_data), f"file {path.name}")

    for key, raw in sorted(_env_overrides(environ).items()):
        _set_dotted(merged, key, _coerce_env(key, raw))
        env_name = ENV_PREFIX + key.upper().replace(".", "__")
        sources[key] = f"env {env_name}"
        _drop_children(sources, key)
    for key, value in (flags or {}).items():
        if value is None:
            continue
        _set_dotted(merged, key, value)
        sources[key] = "flag"
        _drop_children(sources, key)

    try:
        config = parse_config(merged)
    except msgspec.ValidationError as e:
        problem = errors.describe(e, Config, merged)
        origin = _source_for(problem.key, sources)
        where = path.name if origin in ("default",) or origin.startswith("file") else origin
        raise ConfigError(f"{where}: {problem.key}: {problem.text}", hint=problem.hint) from e

    leaves = flatten(to_data(config))
    full_sources = {key: _source_for(key, sources) for key in leaves}
    return LoadedConfig(config=config, root=root, file=path, sources=full_sources)


def _deep_copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data


def _drop_children(sources: dict[str, str], key: str) -> None:
    for existing in [k for k in sources if k.startswith(key + ".")]:
        del sources[existing]


def _source_for(key: str, sources: Mapping[str, str]) -> str:
    probe = key
    while True:
        if probe in sources:
            return sources[probe]
        if "." not in probe:
            return "default"
        probe = probe.rsplit(".", 1)[0]
