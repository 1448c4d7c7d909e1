"""helm's version is asked once per binary: later runs read it from the cache until the binary
changes. The helm here is a real program (a script standing in for helm's `version`) that leaves
a mark each time it runs, so what is observed is whether it ran."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploytag.adapters.common.process import SubprocessRunner
from deploytag.adapters.helm.binary import HelmBinary
from deploytag.adapters.helm.versioncache import VersionCache, cache_directory
from deploytag.core.errors import ToolMissingError

SCRIPT = '#!/bin/sh\necho run >> "{marks}"\nprintf "{version}"\n'


def fake_helm(tmp_path: Path, version: str) -> Path:
    helm = tmp_path / "bin" / "helm"
    helm.parent.mkdir(exist_ok=True)
    helm.write_text(SCRIPT.format(marks=tmp_path / "marks", version=version))
    helm.chmod(0o755)
    return helm


def runs(tmp_path: Path) -> int:
    marks = tmp_path / "marks"
    return len(marks.read_text().splitlines()) if marks.exists() else 0


def helm_with_cache(binary: Path, cache: Path) -> HelmBinary:
    return HelmBinary(
        runner=SubprocessRunner(), binary=str(binary), version_cache=VersionCache(directory=cache)
    )


def test_the_version_is_asked_once_per_binary(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    helm = fake_helm(tmp_path, "v3.18.0")
    assert helm_with_cache(helm, cache).version() == "v3.18.0"
    assert helm_with_cache(helm, cache).version() == "v3.18.0"
    assert runs(tmp_path) == 1
    # Another helm at the same path (upgraded): asked again.
    helm.write_text(SCRIPT.format(marks=tmp_path / "marks", version="v4.1.4 "))
    os.utime(helm, ns=(1, 1))
    assert helm_with_cache(helm, cache).version() == "v4.1.4"
    assert runs(tmp_path) == 2


def test_an_unsupported_helm_is_refused_and_not_remembered(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    helm = fake_helm(tmp_path, "v2.17.0")
    for _ in range(2):
        with pytest.raises(ToolMissingError, match=r"helm v2\.17\.0 is not supported"):
            helm_with_cache(helm, cache).version()
    assert runs(tmp_path) == 2


def test_a_broken_or_unwritable_cache_means_asking_helm(tmp_path: Path) -> None:
    helm = fake_helm(tmp_path, "v3.18.0")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "helm-versions.json").write_text("{not json")
    assert helm_with_cache(helm, broken).version() == "v3.18.0"
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    assert helm_with_cache(helm, blocked / "deploytag").version() == "v3.18.0"
    assert HelmBinary(runner=SubprocessRunner(), binary=str(helm)).version() == "v3.18.0"
    assert runs(tmp_path) == 3


def test_the_real_helm_is_remembered(helm_bin: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = helm_with_cache(helm_bin, cache).version()
    assert VersionCache(directory=cache).get(str(helm_bin)) == first
    assert first.startswith(("v3.", "v4."))


def test_the_cache_directory_follows_xdg() -> None:
    assert cache_directory({"XDG_CACHE_HOME": "/x", "HOME": "/h"}) == Path("/x/deploytag")
    assert cache_directory({"HOME": "/h"}) == Path("/h/.cache/deploytag")
    assert cache_directory({}) is None
