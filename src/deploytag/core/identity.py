"""Who is acting: the CI's user when there is one, else the local login name.

Recorded where DeployTag changes something outside the deploy pipeline (sleep, wake,
force-finalize), so the cluster says who did it. Read from the environment passed in,
never from os.environ directly.
"""

from __future__ import annotations

from collections.abc import Mapping

# (variable, how the identity reads), first match wins: CI identities before login names.
_SOURCES = (
    ("GITHUB_ACTOR", "github:{}"),
    ("GITLAB_USER_LOGIN", "gitlab:{}"),
    ("BUILDKITE_BUILD_CREATOR_EMAIL", "buildkite:{}"),
    ("CIRCLE_USERNAME", "circleci:{}"),
    ("USER", "user:{}"),
    ("LOGNAME", "user:{}"),
    ("USERNAME", "user:{}"),
)


def actor(environ: Mapping[str, str]) -> str:
    """``github:octocat``, ``user:alice``; ``unknown`` when nothing says."""
    for variable, form in _SOURCES:
        value = environ.get(variable, "").strip()
        if value:
            return form.format(value)
    return "unknown"
