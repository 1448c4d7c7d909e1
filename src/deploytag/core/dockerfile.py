"""Just enough of the Dockerfile syntax to know what a build reads.

The base image's tag is a hash of what goes into it (``core.imagehash``), so we
need the ``ARG`` defaults, the ``FROM`` lines and the sources of every ``COPY``
and ``ADD`` that reads the build context. Heredocs are rejected: their bodies
could hide context reads we would not see, and a wrong hash means a stale base.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

import msgspec

from deploytag.core.errors import ConfigError

INSTRUCTIONS = frozenset(
    [
        "FROM",
        "RUN",
        "CMD",
        "LABEL",
        "MAINTAINER",
        "EXPOSE",
        "ENV",
        "ADD",
        "COPY",
        "ENTRYPOINT",
        "VOLUME",
        "USER",
        "WORKDIR",
        "ARG",
        "ONBUILD",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "SHELL",
    ]
)
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"<<-?\s*[\"']?[A-Za-z_][A-Za-z0-9_]*")
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+][^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")
_REMOTE = ("http://", "https://", "git@", "git://")


class DockerfileError(ConfigError):
    """The Dockerfile cannot be read the way a builder would read it."""


class HeredocError(DockerfileError):
    """A heredoc: valid for builders, but its context reads cannot be hashed."""


class Instruction(msgspec.Struct, frozen=True):
    line: int  # 1-based line the instruction starts on
    command: str  # upper case
    flags: Mapping[str, str]  # --from=..., --chown=...
    args: str  # the rest, continuation lines joined


class Dockerfile(msgspec.Struct, frozen=True):
    instructions: Sequence[Instruction]

    def arg_defaults(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for ins in self.instructions:
            if ins.command == "ARG":
                name, eq, default = ins.args.partition("=")
                out.setdefault(name.strip(), _unquote(default.strip()) if eq else None)
        return out

    def base_images(self, build_args: Mapping[str, str]) -> list[str]:
        """Images named by FROM (not earlier stages), variables expanded."""
        values = {k: v for k, v in self.arg_defaults().items() if v is not None}
        values.update(build_args)
        stages: set[str] = set()
        out: list[str] = []
        for ins in self.instructions:
            if ins.command != "FROM":
                continue
            words = ins.args.split()
            image = _VAR.sub(lambda m: values.get(m.group(1) or m.group(2), ""), words[0]) if words else ""
            if image and image.lower() not in stages and image != "scratch":
                out.append(image)
            if len(words) >= 3 and words[1].upper() == "AS":
                stages.add(words[2].lower())
        return out

    def context_sources(self, build_args: Mapping[str, str]) -> list[str]:
        """Every COPY/ADD source read from the build context, variables expanded.

        ``--from=`` copies read another stage or image, remote ADD sources are
        not in the context; both are already covered by the Dockerfile's bytes.
        """
        values = {k: v for k, v in self.arg_defaults().items() if v is not None}
        values.update(build_args)
        sources: list[str] = []
        for ins in self.instructions:
            if ins.command not in ("COPY", "ADD") or "from" in ins.flags:
                continue
            words = _words(ins)
            if len(words) < 2:
                raise DockerfileError(
                    f"line {ins.line}: {ins.command} needs a source and a destination",
                    hint="write e.g. COPY requirements.txt /app/",
                )
            for src in words[:-1]:
                expanded = _VAR.sub(lambda m: values.get(m.group(1) or m.group(2), ""), src)
                if not expanded.startswith(_REMOTE):
                    sources.append(expanded)
        return sources


def parse(text: str, *, name: str = "Dockerfile") -> Dockerfile:
    """Instructions with their continuation lines joined; DockerfileError on bad syntax."""
    lines = text.splitlines()
    escape = "\\"
    for raw in lines:  # parser directives come first, before any comment or instruction
        m = _DIRECTIVE.match(raw.strip())
        if not m:
            break
        if m.group(1).lower() == "escape":
            escape = m.group(2)
    instructions: list[Instruction] = []
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        start = i + 1
        i += 1
        if not stripped or stripped.startswith("#"):
            continue
        parts = [stripped]
        while parts[-1].endswith(escape):
            parts[-1] = parts[-1][: -len(escape)]
            # Comment and blank lines inside a continuation are skipped, as Docker does.
            while i < len(lines) and (not lines[i].strip() or lines[i].strip().startswith("#")):
                i += 1
            if i >= len(lines):
                break
            parts.append(lines[i].strip())
            i += 1
        joined = " ".join(p for p in parts if p)
        instructions.append(_instruction(joined, start, name))
    if not any(ins.command == "FROM" for ins in instructions):
        raise DockerfileError(f"{name} has no FROM instruction", hint="start the file with FROM <image>")
    return Dockerfile(instructions)


def _instruction(text: str, line: int, name: str) -> Instruction:
    command, _, rest = text.partition(" ")
    command = command.upper()
    if command not in INSTRUCTIONS:
        raise DockerfileError(
            f"{name}:{line}: unknown instruction {command!r}",
            hint="fix the Dockerfile; `buildah bud` or `docker build` shows the same error",
        )
    if _HEREDOC.search(rest) and command in ("RUN", "COPY", "ADD"):
        raise HeredocError(
            f"{name}:{line}: heredocs (<<EOF) are not supported in files DeployTag hashes",
            hint="move the heredoc's content into a file and COPY it",
        )
    flags: dict[str, str] = {}
    rest = rest.strip()
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        key, _, value = flag[2:].partition("=")
        flags[key] = value
        rest = rest.strip()
    return Instruction(line=line, command=command, flags=flags, args=rest)


def _words(ins: Instruction) -> list[str]:
    if ins.args.startswith("["):
        try:
            value = json.loads(ins.args)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        raise DockerfileError(
            f"line {ins.line}: {ins.command} has a malformed JSON array",
            hint='use double quotes: COPY ["src", "dest/"]',
        )
    return ins.args.split()


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value
