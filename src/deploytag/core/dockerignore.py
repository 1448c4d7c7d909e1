"""A .dockerignore matcher with Docker's semantics (moby/patternmatcher).

Patterns are cleaned paths relative to the context (a leading ``/`` means the
same as none), ``*`` and ``?`` stay within one path component, ``**`` spans
any number of them, ``!`` re-includes. The last matching pattern wins, and a
pattern that matches a directory matches everything below it.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import msgspec


class Pattern(msgspec.Struct, frozen=True):
    text: str
    exclude: bool  # False for a ``!`` exception
    regex: re.Pattern[str]


def glob_regex(pattern: str, *, double_star: bool = True) -> re.Pattern[str]:
    """Translate one cleaned pattern into an anchored regex over '/'-separated paths."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if double_star and pattern.startswith("**", i):
                i += 2
                if pattern.startswith("/", i):  # "**/" : zero or more directories
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                if body.startswith("^") or body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("^" + "".join(out) + "$")


def _clean(text: str) -> str:
    cleaned = posixpath.normpath(text.strip().replace("\\", "/")).lstrip("/")
    return "" if cleaned == "." else cleaned


def parse_patterns(lines: Iterable[str]) -> list[Pattern]:
    patterns: list[Pattern] = []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclude = not line.startswith("!")
        body = _clean(line if exclude else line[1:])
        if body:
            patterns.append(Pattern(text=line, exclude=exclude, regex=glob_regex(body)))
    return patterns


class IgnoreMatcher(msgspec.Struct, frozen=True):
    patterns: Sequence[Pattern] = ()

    @classmethod
    def for_context(cls, context: Path) -> IgnoreMatcher:
        path = context / ".dockerignore"
        if not path.is_file():
            return cls()
        return cls(parse_patterns(path.read_text(encoding="utf-8").splitlines()))

    def ignored(self, rel: str) -> bool:
        """True when the '/'-separated context path ``rel`` is excluded."""
        parents = _self_and_parents(rel)
        excluded = False
        for pattern in self.patterns:
            if any(pattern.regex.match(p) for p in parents):
                excluded = pattern.exclude
        return excluded

    def may_reinclude_below(self, rel: str) -> bool:
        """Whether an exception could re-include something under the ignored directory ``rel``.

        Only then is an ignored directory walked (``*`` plus ``!src`` must not walk .git).
        """
        for pattern in self.patterns:
            if pattern.exclude:
                continue
            body = pattern.text[1:].strip().lstrip("/")
            literal = re.split(r"[*?\[\\]", body, maxsplit=1)[0]
            if literal != body and "/" not in literal:
                return True  # a wildcard in the first component could match anywhere
            if literal.startswith(rel + "/") or (rel + "/").startswith(literal.rsplit("/", 1)[0] + "/"):
                return True
        return False


def _self_and_parents(rel: str) -> list[str]:
    parts = rel.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def context_files(context: Path, matcher: IgnoreMatcher) -> list[str]:
    """Every file (or symlink) the builder would send, as sorted '/'-separated paths."""
    found: list[str] = []
    stack = [context]
    while stack:
        directory = stack.pop()
        for entry in sorted(directory.iterdir()):
            rel = entry.relative_to(context).as_posix()
            is_dir = entry.is_dir() and not entry.is_symlink()
            if matcher.ignored(rel):
                if is_dir and matcher.may_reinclude_below(rel):
                    stack.append(entry)
                continue
            if is_dir:
                stack.append(entry)
            else:
                found.append(rel)
    return sorted(found)
