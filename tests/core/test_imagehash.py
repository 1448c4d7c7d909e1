"""The base image's content hash: what changes it and what must not."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deploytag.core.dockerfile import DockerfileError
from deploytag.core.imagehash import content_hash

DOCKERFILE = """ARG BASE=busybox
FROM ${BASE}
COPY requirements.txt /opt/
COPY tools/ /opt/tools/
COPY --from=busybox /bin/true /bin/true
"""


def make_context(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Dockerfile.base").write_text(DOCKERFILE)
    (root / "requirements.txt").write_text("psycopg==3.2.3\n")
    (root / "tools").mkdir(exist_ok=True)
    (root / "tools" / "run.sh").write_text("#!/bin/sh\n")
    (root / "tools" / "run.sh").chmod(0o755)
    (root / "tools" / "debug.log").write_text("noise\n")
    (root / "app.py").write_text("print('app')\n")
    (root / ".dockerignore").write_text("**/*.log\n")
    return root


def digest(root: Path, **args: str) -> str:
    return content_hash(context=root, dockerfile=root / "Dockerfile.base", build_args=args).digest


def test_same_content_same_hash_anywhere(tmp_path: Path) -> None:
    a, b = make_context(tmp_path / "a"), make_context(tmp_path / "b")
    (b / "requirements.txt").chmod(0o664)  # another umask: same content
    assert digest(a) == digest(b)
    found = content_hash(context=a, dockerfile=a / "Dockerfile.base", build_args={"UNUSED": "x"})
    assert found.files == ("requirements.txt", "tools/run.sh")
    assert found.build_args == {"BASE": "busybox"}  # undeclared args do not count
    assert len(found.tag) == 32


@pytest.mark.parametrize(
    ("change", "changes_hash"),
    [
        (lambda r: (r / "requirements.txt").write_text("psycopg==3.2.4\n"), True),
        (lambda r: (r / "tools" / "new.sh").write_text("x"), True),
        (lambda r: (r / "tools" / "run.sh").chmod(0o644), True),
        (lambda r: (r / "tools" / "run.sh").rename(r / "tools" / "run2.sh"), True),
        (lambda r: (r / "Dockerfile.base").write_text(DOCKERFILE + "ENV A=1\n"), True),
        (lambda r: (r / "app.py").write_text("print('changed')\n"), False),  # not copied
        (lambda r: (r / "tools" / "debug.log").write_text("more noise\n"), False),  # ignored
    ],
)
def test_what_changes_the_hash(tmp_path: Path, change: Callable[[Path], object], changes_hash: bool) -> None:
    root = make_context(tmp_path / "ctx")
    before = digest(root)
    change(root)
    assert (digest(root) != before) is changes_hash


def test_build_args_change_the_hash(tmp_path: Path) -> None:
    root = make_context(tmp_path / "ctx")
    assert digest(root) == digest(root, BASE="busybox")
    assert digest(root) != digest(root, BASE="alpine")


def test_missing_source_and_missing_file(tmp_path: Path) -> None:
    root = make_context(tmp_path / "ctx")
    (root / "requirements.txt").unlink()
    with pytest.raises(DockerfileError, match=r"'requirements\.txt' matches no file"):
        digest(root)
    with pytest.raises(DockerfileError, match="does not exist"):
        content_hash(context=root, dockerfile=root / "nope", build_args={})


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.sampled_from(["a.txt", "b/c.txt", "b/d e.txt", "x.bin"]), st.binary(max_size=64)))
def test_hash_depends_only_on_content(
    tmp_path_factory: pytest.TempPathFactory, files: dict[str, bytes]
) -> None:
    roots = []
    for order in (sorted(files), sorted(files, reverse=True)):  # creation order must not matter
        root = tmp_path_factory.mktemp("h")
        (root / "Dockerfile.base").write_text("FROM scratch\nCOPY . /\n")
        for name in order:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(files[name])
        roots.append(root)
    assert digest(roots[0]) == digest(roots[1])
    shutil.rmtree(roots[1])
    assert os.path.exists(roots[0])
