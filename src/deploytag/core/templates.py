"""Name templates: ``{.Branch}-guest-server-frontend-aws`` and friends.

The ``{.Name}`` form is the one the platform guide uses. Only the placeholders
in ``PLACEHOLDERS`` exist; anything else in braces is an error, so a typo never
silently becomes part of a DNS name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from deploytag.core.errors import PlanError

PLACEHOLDERS: dict[str, str] = {
    "Branch": "the git branch as pushed, e.g. feature/login",
    "App": "the app name from deploytag.yaml",
    "Slug": "the branch as a unique DNS-safe label",
    "Commit": "the full commit SHA",
    "ShortCommit": "the first 8 characters of the commit SHA",
    "Namespace": "the environment's namespace",
    "Environment": "the environment name: preview, staging, ...",
}

_BRACED = re.compile(r"\{([^{}]*)\}")
_VALID = re.compile(r"^\.([A-Za-z]+)$")


def placeholders_in(template: str) -> list[str]:
    """Names used by ``template``; raises PlanError for unknown or malformed ones."""
    names: list[str] = []
    for match in _BRACED.finditer(template):
        inner = match.group(1).strip()
        valid = _VALID.match(inner)
        if valid is None or valid.group(1) not in PLACEHOLDERS:
            known = ", ".join("{." + n + "}" for n in PLACEHOLDERS)
            raise PlanError(
                f"template {template!r} uses unknown placeholder {match.group(0)}",
                hint=f"use one of {known}",
            )
        names.append(valid.group(1))
    rest = _BRACED.sub("", template)
    if "{" in rest or "}" in rest:
        raise PlanError(
            f"template {template!r} has an unbalanced brace",
            hint="write placeholders as {.Branch}",
        )
    return names


def render(template: str, values: Mapping[str, str]) -> str:
    """Substitute every placeholder; ``values`` must hold each one used."""
    placeholders_in(template)

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1).strip()[1:]
        return values[name]

    return _BRACED.sub(substitute, template)
