"""Providers come from entry points alone, and each implements its capability's factory Protocol."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib import metadata

import pytest

from deploytag.adapters.plugins import GROUPS, _parse_entry_points, available, load_provider, own
from deploytag.core.errors import ConfigError
from deploytag.ports.factories import FACTORIES


def _keywords(function: Callable[..., object]) -> list[str]:
    params = inspect.signature(function).parameters.values()
    return [p.name for p in params if p.name != "self"]


def test_every_group_has_a_factory_and_a_config_key() -> None:
    assert set(FACTORIES) == set(GROUPS)


@pytest.mark.parametrize("group", sorted(FACTORIES))
def test_each_built_in_provider_implements_its_factory(group: str) -> None:
    protocol = FACTORIES[group]
    own = metadata.distribution("deploytag").entry_points.select(group=group)
    assert own, f"no built-in providers declared for {group} in pyproject.toml"
    methods = [n for n, v in vars(protocol).items() if inspect.isfunction(v) and not n.startswith("_")]
    for ep in own:
        cls = ep.load()
        for method in methods:
            assert hasattr(cls, method), f"{ep.value} has no {method}"
            assert _keywords(getattr(cls, method)) == _keywords(vars(protocol)[method]), (ep.value, method)


def test_built_ins_resolve_through_the_entry_points() -> None:
    declared = {
        ep.name for ep in metadata.distribution("deploytag").entry_points.select(group="deploytag.dns")
    }
    assert declared == {"cloudflare", "route53", "rfc2136", "powerdns"}
    assert set(available("deploytag.dns")) >= declared
    assert load_provider("deploytag.dns", "powerdns").__name__ == "PowerDnsDns"


def test_an_unknown_provider_names_the_key_and_the_choices() -> None:
    with pytest.raises(ConfigError) as caught:
        load_provider("deploytag.dns", "bind9")
    assert str(caught.value).startswith("unknown provider 'bind9' for dns.provider")
    assert "cloudflare, powerdns, rfc2136, route53" in (caught.value.hint or "")


def test_own_entry_points_read_fast_agree_with_importlib_metadata() -> None:
    for group in sorted(GROUPS):
        standard = {
            ep.name: ep.value for ep in metadata.distribution("deploytag").entry_points.select(group=group)
        }
        assert own(group) == standard, group


def test_the_entry_points_file_format() -> None:
    text = "# comment\n[a.b]\nx = m.n:C\n  y=m:D  \n\n[c]\n; other\nz = q:R\n"
    assert _parse_entry_points(text) == {"a.b": {"x": "m.n:C", "y": "m:D"}, "c": {"z": "q:R"}}


@pytest.mark.parametrize("group", [*sorted(GROUPS), "console_scripts", "pytest11"])
def test_the_installed_entry_points_read_fast_agree_with_importlib_metadata(group: str) -> None:
    standard = {ep.name: ep.value for ep in metadata.entry_points(group=group)}
    assert available(group) == {**own(group), **standard}
