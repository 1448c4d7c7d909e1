"""Choosing kaniko, and the git context it is given (no cluster needed)."""

from __future__ import annotations

import pytest

from deploytag.adapters.common.process import SubprocessRunner
from deploytag.adapters.images.kaniko import KanikoBuilder, kaniko_git_url
from deploytag.adapters.memory.cluster import MemoryCluster
from deploytag.core.config import BuildConfig
from deploytag.core.errors import ConfigError, ToolMissingError
from deploytag.service.imagewiring import make_builder


@pytest.mark.parametrize(
    ("remote", "context"),
    [
        ("https://github.com/acme/shop.git", "git://github.com/acme/shop.git"),
        ("https://ci:s3cr3t@gitlab.example:8443/acme/shop.git", "git://gitlab.example:8443/acme/shop.git"),
        ("git@github.com:acme/shop.git", "git://github.com/acme/shop.git"),
        ("ssh://git@github.com/acme/shop.git", "git://github.com/acme/shop.git"),
        ("file:///srv/git/shop.git", "git:///srv/git/shop.git"),
        ("/srv/git/shop.git", "git:///srv/git/shop.git"),
    ],
)
def test_remotes_become_kaniko_git_contexts_without_credentials(remote: str, context: str) -> None:
    assert kaniko_git_url(remote) == context


def test_an_unusable_remote_asks_for_build_kaniko_git_url() -> None:
    with pytest.raises(ConfigError) as e:
        kaniko_git_url("shop")
    assert e.value.hint == "set build.kaniko.git_url"


def test_kaniko_only_when_configured_and_the_install_hint_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # neither buildah nor docker
    runner = SubprocessRunner()
    with pytest.raises(ToolMissingError) as e:
        make_builder(BuildConfig(), runner, {}, cluster=MemoryCluster)
    assert "build.builder: kaniko" in (e.value.hint or "")
    chosen = make_builder(BuildConfig(builder="kaniko"), runner, {}, cluster=MemoryCluster)
    assert isinstance(chosen, KanikoBuilder)
