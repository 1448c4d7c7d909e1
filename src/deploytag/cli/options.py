"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

OUTPUT = click.Choice(["text", "json"])


def branch_options(func: F) -> F:
    func = click.option("--commit", envvar="DEPLOYTAG_COMMIT", help="Commit SHA (default: from CI or git).")(
        func
    )
    return click.option(
        "--branch", "-b", envvar="DEPLOYTAG_BRANCH", help="Branch to act on (default: from CI or git)."
    )(func)


def output_option(func: F) -> F:
    return click.option(
        "--output",
        "-o",
        "fmt",
        type=OUTPUT,
        default="text",
        envvar="DEPLOYTAG_OUTPUT",
        show_default=True,
        help="Output format; json is stable and documented for CI.",
    )(func)


def set_option(func: F) -> F:
    return click.option(
        "--set",
        "set_values",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override a chart value, applied last (like helm --set). Repeatable.",
    )(func)


def feedback_options(func: F) -> F:
    """--feedback/--no-feedback and --pr: the pull/merge request comment (docs/feedback.md)."""
    func = click.option(
        "--pr",
        "pull_request",
        type=click.IntRange(min=1),
        metavar="N",
        help="Pull/merge request to comment on (default: the CI event's, else the open one for the branch).",
    )(func)
    return click.option(
        "--feedback/--no-feedback",
        "feedback",
        default=None,
        help="Comment on the branch's pull/merge request and set a commit status "
        "(default: feedback.enabled, else on in GitHub Actions or GitLab CI when a token is set).",
    )(func)
