"""One loader, written precedence: flag > DEPLOYTAG_* env > deploytag.yaml > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploytag.core.config import load_config
from deploytag.core.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "deploytag.yaml").write_text(text)
    return tmp_path


def test_precedence_flag_over_env_over_file_over_default(tmp_path: Path) -> None:
    repo = write(
        tmp_path, "app: shop\nchart: {timeout_seconds: 100, atomic: false}\nsecrets: {provider: file}\n"
    )
    loaded = load_config(
        repo=repo,
        environ={"DEPLOYTAG_CHART__TIMEOUT_SECONDS": "200", "DEPLOYTAG_SECRETS__PROVIDER": "aws"},
        flags={"secrets.provider": "vault"},
    )
    cfg = loaded.config
    assert cfg.chart.timeout_seconds == 200 and loaded.sources["chart.timeout_seconds"].startswith("env")
    assert cfg.chart.atomic is False and loaded.sources["chart.atomic"] == "file deploytag.yaml"
    assert cfg.secrets.provider == "vault" and loaded.sources["secrets.provider"] == "flag"
    assert cfg.cluster.lock_seconds == 15 and loaded.sources["cluster.lock_seconds"] == "default"


def test_env_list_is_comma_separated(tmp_path: Path) -> None:
    loaded = load_config(
        repo=write(tmp_path, "app: shop\n"), environ={"DEPLOYTAG_SECRETS__IDS": "staging/app, staging/extra"}
    )
    assert loaded.config.secrets.ids == ["staging/app", "staging/extra"]


def test_run_inputs_in_env_are_not_configuration(tmp_path: Path) -> None:
    loaded = load_config(repo=write(tmp_path, "app: shop\n"), environ={"DEPLOYTAG_BRANCH": "feature/x"})
    assert loaded.config.app == "shop"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("app: shop\nchrt: {}\n", r"deploytag.yaml: chrt: unknown key"),
        ("app: shop\nchart: {timeout_seconds: soon}\n", r"deploytag.yaml: chart.timeout_seconds: "),
        ("chart: {}\n", r"deploytag.yaml: app: required key is missing"),
        ("app: Shop_App\n", r"deploytag.yaml: app: .*DNS label"),
        ("app: [shop\n", r"deploytag.yaml:\d+: "),
        ("- app\n", r"top level must be a mapping"),
    ],
)
def test_bad_file_is_one_clear_error_naming_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as info:
        load_config(repo=write(tmp_path, text), environ={})
    assert "\n" not in str(info.value)
    assert info.value.hint


def test_bad_env_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="env DEPLOYTAG_CHART__TIMEOUT_SECONDS"):
        load_config(repo=write(tmp_path, "app: shop\n"), environ={"DEPLOYTAG_CHART__TIMEOUT_SECONDS": "x"})


def test_missing_file_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no deploytag\.yaml in"):
        load_config(repo=tmp_path, environ={})


def test_limits_and_cost_follow_the_precedence(tmp_path: Path) -> None:
    (tmp_path / "deploytag.yaml").write_text(
        "app: shop\nlimits: {max_previews: 5, max_previews_per_author: 2}\ncost: {currency: EUR}\n"
    )
    loaded = load_config(
        repo=tmp_path,
        environ={"DEPLOYTAG_LIMITS__MAX_PREVIEWS": "3", "DEPLOYTAG_COST__CPU_PER_MONTH": "30.5"},
        flags={"cost.gib_per_month": 4},
    )
    cfg, sources = loaded.config, loaded.sources
    assert cfg.limits.max_previews == 3 and sources["limits.max_previews"].startswith("env")
    assert (
        cfg.limits.max_previews_per_author == 2
        and sources["limits.max_previews_per_author"] == "file deploytag.yaml"
    )
    assert (cfg.cost.cpu_per_month, cfg.cost.gib_per_month, cfg.cost.currency) == (30.5, 4.0, "EUR")
    assert sources["cost.gib_per_month"] == "flag"
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "deploytag.yaml").write_text("app: shop\n")
    defaults = load_config(repo=tmp_path / "plain", environ={})
    assert (defaults.config.limits.max_previews, defaults.config.cost.cpu_per_month) == (None, 23.08)


def test_a_limit_below_one_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "deploytag.yaml").write_text("app: shop\nlimits: {max_previews: 0}\n")
    with pytest.raises(ConfigError, match=r"limits\.max_previews"):
        load_config(repo=tmp_path, environ={})
