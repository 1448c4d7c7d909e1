"""A bad deploytag.yaml, variable or flag is one line: where, the dotted key, the problem, the value.

The schema is msgspec Structs; msgspec reports ``... - at `$.images[...].repository```, and the
loader turns it into ``deploytag.yaml: images.app.repository: ...`` (core/config/errors.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from deploytag.core.config import Config, load_config, parse_config
from deploytag.core.errors import ConfigError
from deploytag.core.settingsmodel import to_data

FIX = "fix the value (see docs/configuration.md)"


def error_for(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> ConfigError:
    (tmp_path / "deploytag.yaml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(repo=tmp_path, environ=environ or {})
    assert "\n" not in str(info.value)
    return info.value


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        (
            "app: shop\nchart: {timeout_seconds: soon}\n",
            "deploytag.yaml: chart.timeout_seconds: expected int (got 'soon')",
            FIX,
        ),
        (
            "app: shop\nchart: {timeout_seconds: 0}\n",
            "deploytag.yaml: chart.timeout_seconds: expected int >= 1 (got 0)",
            FIX,
        ),
        ("app: shop\ngc: {parallel: 99}\n", "deploytag.yaml: gc.parallel: expected int <= 32 (got 99)", FIX),
        ("app: shop\nttl_hours: 0\n", "deploytag.yaml: ttl_hours: expected float > 0.0 (got 0)", FIX),
        (
            "app: shop\nsecrets: {ids: [staging/app, 7]}\n",
            "deploytag.yaml: secrets.ids.1: expected str (got 7)",
            FIX,
        ),
        # In a mapping, the entry that fails is named (msgspec says only `[...]`), not the first one.
        (
            "app: shop\nimages: {web: {repository: r/web}, app: {repository: 5}}\n",
            "deploytag.yaml: images.app.repository: expected str (got 5)",
            FIX,
        ),
        (
            "app: shop\nchart: {environments: {preview: [a.yaml], staging: [b.yaml, 3]}}\n",
            "deploytag.yaml: chart.environments.staging.1: expected Path (got 3)",
            FIX,
        ),
        (
            "app: shop\nchart: {set: {a: '1', b: [1]}}\n",
            "deploytag.yaml: chart.set.b: expected str, got list",
            FIX,
        ),
        ("app: shop\nchart: 3\n", "deploytag.yaml: chart: expected mapping (got 3)", FIX),
        (
            "app: shop\nbuild: {builder: podman}\n",
            "deploytag.yaml: build.builder: must be one of 'auto', 'buildah', 'docker', 'kaniko' (got 'podman')",
            FIX,
        ),
        (
            "app: shop\nlint: {severity: {replicas: loud}}\n",
            "deploytag.yaml: lint.severity.replicas: must be one of 'off', 'warn', 'error' (got 'loud')",
            FIX,
        ),
        (
            "app: shop\nimages: {1: {repository: r}}\n",
            "deploytag.yaml: images: a key: expected str, got int",
            FIX,
        ),
        (
            "app: shop\nchart: {pth: x}\n",
            "deploytag.yaml: chart.pth: unknown key",
            "remove it or check its spelling against docs/configuration.md",
        ),
        (
            "app: shop\nimages: {app: {repository: r, dockerfil: x}}\n",
            "deploytag.yaml: images.app.dockerfil: unknown key",
            "remove it or check its spelling against docs/configuration.md",
        ),
        (
            "app: shop\nbranches: {permanent: {main: {environment: staging}, prod: {namespace: p}}}\n",
            "deploytag.yaml: branches.permanent.prod.environment: required key is missing",
            "add it (see docs/configuration.md)",
        ),
        (
            "chart: {}\n",
            "deploytag.yaml: app: required key is missing",
            "add it (see docs/configuration.md)",
        ),
        (
            "app: Shop_App\n",
            "deploytag.yaml: app: must be a lowercase DNS label of at most 30 characters "
            "(a-z, 0-9, single '-') (got 'Shop_App')",
            FIX,
        ),
        (
            'app: shop\nimages: {web: {repository: r/web}, app: {repository: "r/app\\nevil"}}\n',
            "deploytag.yaml: images.app.repository: contains a control character (U+000A); "
            "a name is one line of printable text (got 'r/app\\nevil')",
            FIX,
        ),
        (
            'app: shop\nsecrets: {ids: [ok, "b\\x1b"]}\n',
            "deploytag.yaml: secrets.ids: contains a control character (U+001B); "
            "a name is one line of printable text",
            FIX,
        ),
    ],
)
def test_the_error_names_the_key_the_problem_and_the_value(
    tmp_path: Path, text: str, message: str, hint: str
) -> None:
    error = error_for(tmp_path, text)
    assert error.message == message
    assert error.hint == hint


def test_an_environment_variable_is_named_as_the_source(tmp_path: Path) -> None:
    error = error_for(tmp_path, "app: shop\n", {"DEPLOYTAG_CHART__TIMEOUT_SECONDS": "0"})
    assert error.message == (
        "env DEPLOYTAG_CHART__TIMEOUT_SECONDS: chart.timeout_seconds: expected int >= 1 (got '0')"
    )
    error = error_for(tmp_path, "app: shop\n", {"DEPLOYTAG_SECRETS__IDS": '["staging/app", 1]'})
    assert error.message == "env DEPLOYTAG_SECRETS__IDS: secrets.ids.1: expected str (got 1)"
    error = error_for(tmp_path, "app: shop\n", {"DEPLOYTAG_CHART__NOPE": "x"})
    assert error.message == "env DEPLOYTAG_CHART__NOPE: chart.nope: unknown key"


def test_a_flag_is_named_as_the_source(tmp_path: Path) -> None:
    (tmp_path / "deploytag.yaml").write_text("app: shop\n")
    with pytest.raises(ConfigError) as info:
        load_config(repo=tmp_path, environ={}, flags={"cluster.context": "prod\nx"})
    assert info.value.message.startswith("flag: cluster.context: contains a control character (U+000A)")


def test_environment_strings_convert_as_before(tmp_path: Path) -> None:
    (tmp_path / "deploytag.yaml").write_text("app: shop\n")
    environ = {
        "DEPLOYTAG_BUILD__ENABLED": "no",  # pydantic's words for booleans still work
        "DEPLOYTAG_CHART__ATOMIC": "Yes",
        "DEPLOYTAG_GC__PARALLEL": "8",
        "DEPLOYTAG_FEEDBACK__TIMEOUT_SECONDS": "2.5",
        "DEPLOYTAG_CHART__VALUES": "a.yaml, b.yaml",
        "DEPLOYTAG_CHART__ENVIRONMENTS__PREVIEW": "p.yaml,q.yaml",
        "DEPLOYTAG_DNS__PROVIDER": "none",
    }
    cfg = load_config(repo=tmp_path, environ=environ).config
    assert cfg.build.enabled is False and cfg.chart.atomic is True
    assert cfg.gc.parallel == 8 and cfg.feedback.timeout_seconds == 2.5
    assert cfg.chart.values == [Path("a.yaml"), Path("b.yaml")]
    assert cfg.chart.environments == {"preview": [Path("p.yaml"), Path("q.yaml")]}
    assert cfg.dns.provider is None


def test_parsed_values_keep_their_types_and_yaml_spellings() -> None:
    cfg = parse_config(
        {
            "app": "shop",
            "lint": {"severity": {"a": False, "b": "warn"}},
            "gc": {"parallel": 2.0},
            "ttl_hours": 3,
        }
    )
    assert cfg.lint.severity == {"a": "off", "b": "warn"}  # YAML 1.1 reads a bare `off` as false
    assert type(cfg.gc.parallel) is int and type(cfg.ttl_hours) is float
    assert type(cfg.feedback.timeout_seconds) is float  # defaults are what validation would give
    assert cfg.chart.path == Path("chart") and cfg.secrets.file == Path("secrets.local.yaml")


def test_models_are_frozen_equal_by_value_and_dump_paths_as_text() -> None:
    cfg = parse_config({"app": "shop", "chart": {"values": ["v.yaml"]}})
    assert cfg == parse_config({"app": "shop", "chart": {"values": ["v.yaml"]}})
    assert cfg != parse_config({"app": "shop2"})
    with pytest.raises(AttributeError):
        cfg.app = "other"  # type: ignore[misc]
    assert hash(cfg.tools) == hash(parse_config({"app": "x"}).tools)
    data = to_data(cfg)
    assert data["chart"]["path"] == "chart" and data["chart"]["values"] == ["v.yaml"]
    assert list(data)[:3] == ["app", "branches", "chart"]
    with pytest.raises(msgspec.ValidationError):
        parse_config({"app": "shop", "chrt": {}})
    assert isinstance(cfg, Config)


def test_loading_the_configuration_imports_no_pydantic() -> None:
    probe = (
        "import sys, deploytag.core.config, deploytag.core.config.errors;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
