"""Dockerfile parsing and the .dockerignore matcher (Docker's semantics)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deploytag.core.dockerfile import DockerfileError, parse
from deploytag.core.dockerignore import IgnoreMatcher, context_files, parse_patterns


def test_continuations_comments_args_and_copy_sources() -> None:
    text = """# syntax=docker/dockerfile:1
ARG PY=3.12
ARG EMPTY
FROM python:${PY}-slim AS build
RUN apt-get update \\
    # a comment inside a continuation is dropped
    && apt-get install -y curl
COPY --chown=app requirements.txt ./
COPY ["src dir/", "/app/"]
COPY --from=build /venv /venv
ADD https://example.com/x.tgz /tmp/
ADD vendor/*.whl lib/${PY}/ /wheels/
FROM build
"""
    parsed = parse(text)
    assert [i.command for i in parsed.instructions] == [
        "ARG", "ARG", "FROM", "RUN", "COPY", "COPY", "COPY", "ADD", "ADD", "FROM",
    ]  # fmt: skip
    run = parsed.instructions[3]
    assert run.line == 5
    assert run.args == "apt-get update  && apt-get install -y curl"
    assert parsed.arg_defaults() == {"PY": "3.12", "EMPTY": None}
    assert parsed.context_sources({}) == ["requirements.txt", "src dir/", "vendor/*.whl", "lib/3.12/"]
    assert parsed.context_sources({"PY": "3.13"})[-1] == "lib/3.13/"
    assert parsed.base_images({}) == ["python:3.12-slim"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("RUN echo hi\n", "no FROM"),
        ("FROM x\nFRUM y\n", "unknown instruction 'FRUM'"),
        ("FROM x\nRUN <<EOF\necho hi\nEOF\n", "heredocs"),
        ('FROM x\nCOPY ["a", b]\n', "malformed JSON"),
        ("FROM x\nCOPY onlyone\n", "source and a destination"),
    ],
)
def test_bad_dockerfiles_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(DockerfileError, match=message):
        parse(text).context_sources({})


def test_escape_directive() -> None:
    parsed = parse("# escape=`\nFROM x\nCOPY a `\n  b /dst/\n")
    assert parsed.context_sources({}) == ["a", "b"]


def matcher(*lines: str) -> IgnoreMatcher:
    return IgnoreMatcher(parse_patterns(lines))


def test_dockerignore_semantics() -> None:
    m = matcher("*", "!guestbook", "!migrate.py", "**/__pycache__", "/secrets.local.yaml")
    assert m.ignored("secrets.local.yaml")
    assert m.ignored("README.md")
    assert not m.ignored("guestbook/app.py")
    assert not m.ignored("migrate.py")
    assert m.ignored("guestbook/__pycache__/app.cpython-311.pyc")
    m2 = matcher("**/*.pem", "docs", "!docs/keep.md", "a?c", "[xy].txt")
    assert m2.ignored("deep/dir/cert.pem") and m2.ignored("cert.pem")
    assert m2.ignored("docs/other.md") and not m2.ignored("docs/keep.md")
    assert m2.ignored("abc") and not m2.ignored("a/c")
    assert m2.ignored("x.txt") and not m2.ignored("z.txt")
    assert not matcher("# comment", "").ignored("anything")


_name = st.text(alphabet="abcdefghij-_.", min_size=1, max_size=8).filter(lambda s: s not in (".", ".."))


@given(st.lists(_name, min_size=1, max_size=4))
def test_a_literal_path_ignores_itself_and_everything_below(parts: list[str]) -> None:
    path = "/".join(parts)
    m = matcher(path)
    assert m.ignored(path)
    assert m.ignored(path + "/child")
    assert matcher(path, "!" + path).ignored(path) is False  # the last match wins
    assert matcher("/" + path).ignored(path)  # a leading slash changes nothing


_paths = st.lists(
    st.lists(st.sampled_from(["a", "b", ".git", "src", "x.py", "k.pem"]), min_size=1, max_size=3).map(
        "/".join
    ),
    min_size=1,
    max_size=8,
)
_patterns = st.lists(
    st.sampled_from(["*", "!src", "!a/x.py", "**/*.pem", ".git", "!**/b", "a/*", "!*.py", "/b", "src/**"]),
    max_size=5,
)


@settings(max_examples=40, deadline=None)
@given(_paths, _patterns)
def test_context_walk_prunes_only_what_no_exception_can_reinclude(
    tmp_path_factory: pytest.TempPathFactory, paths: list[str], patterns: list[str]
) -> None:
    root = tmp_path_factory.mktemp("ctx")
    for rel in paths:
        target = root / rel
        if any(p.is_file() for p in [*target.parents, target] if p != root and root in p.parents):
            continue  # a file already sits where a directory would go
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_text(rel)
    m = matcher(*patterns)
    every = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert context_files(root, m) == [f for f in every if not m.ignored(f)]
