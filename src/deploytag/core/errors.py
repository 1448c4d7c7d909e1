"""One exception hierarchy for DeployTag, and the exit status each maps to.

Every error carries a message that says what to do next. Adapters wrap SDK and
process errors in these with ``raise ... from e`` so the CLI catches one family
at the top. Messages are scrubbed of secret values before they are built (see
``scrub``), and bodies from remote systems are cut short.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable


class ExitStatus(enum.IntEnum):
    """Process exit codes. Distinct per failure class so CI can branch on them."""

    OK = 0
    ERROR = 1  # unexpected failure: a bug, reported with --debug for the traceback
    USAGE = 2  # bad command-line usage (click's own code)
    CONFIG = 3  # deploytag.yaml or DEPLOYTAG_* env invalid
    PLAN = 4  # names cannot be derived: unknown placeholder, collision, too long
    TOOL_MISSING = 5  # helm / kubectl / git not installed
    CHART = 6  # chart missing or helm failed to render it
    LINT = 7  # best-practice findings at severity error
    CLUSTER = 8  # Kubernetes API unreachable or refused
    SECRETS = 9  # secret store failed or secret missing
    RELEASE = 10  # helm upgrade/rollback failed
    VERIFY = 11  # rollout did not become ready
    LOCKED = 12  # another run holds the environment's lease
    NOT_FOUND = 13  # environment does not exist
    IMAGE = 14  # image build or push failed, or the registry refused
    DATABASE = 15  # database server unreachable, admin login refused, or not ours
    DNS = 16  # DNS provider refused, timed out, or a record is someone else's
    MIGRATION = 17  # the migration (or seed) command failed; the release was not changed
    NAME_COLLISION = 18  # the branch's names belong to another branch's environment (core.naming)
    LIMIT = 19  # a new preview would exceed limits.max_previews or limits.max_previews_per_author
    INTERRUPTED = 130


class DeployTagError(Exception):
    """Base of every error DeployTag reports to a user.

    ``hint`` says what to do next; ``retryable`` tells the runner whether trying
    again may succeed (timeouts, 5xx, conflicts) or not (bad input, 4xx).
    """

    exit_status: ExitStatus = ExitStatus.ERROR
    retryable: bool = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}; {self.hint}"
        return self.message


class ConfigError(DeployTagError):
    exit_status = ExitStatus.CONFIG


class UsageError(DeployTagError):
    """A command-line value DeployTag checks itself (one line, unlike click's usage block)."""

    exit_status = ExitStatus.USAGE


class PlanError(DeployTagError):
    exit_status = ExitStatus.PLAN


class NameCollisionError(PlanError):
    """Two branches read the same after lowercasing and ``/`` -> ``-``; the second is refused.

    A PlanError (found while planning, before any side effect) with its own exit
    status so CI can tell "rename the branch" from other plan errors.
    """

    exit_status = ExitStatus.NAME_COLLISION


class LimitError(DeployTagError):
    """A new preview would exceed a configured limit; nothing was created."""

    exit_status = ExitStatus.LIMIT


class ToolMissingError(DeployTagError):
    exit_status = ExitStatus.TOOL_MISSING


class ChartError(DeployTagError):
    exit_status = ExitStatus.CHART


class LintError(DeployTagError):
    exit_status = ExitStatus.LINT


class ClusterError(DeployTagError):
    exit_status = ExitStatus.CLUSTER


class RetryableClusterError(ClusterError):
    retryable = True


class SecretStoreError(DeployTagError):
    exit_status = ExitStatus.SECRETS


class RetryableSecretStoreError(SecretStoreError):
    """The store was throttled, failed (5xx) or unreachable: trying again may succeed."""

    retryable = True


class ReleaseError(DeployTagError):
    exit_status = ExitStatus.RELEASE


class VerifyError(DeployTagError):
    exit_status = ExitStatus.VERIFY

    def __init__(self, message: str, *, hint: str | None = None, digest: str = "") -> None:
        super().__init__(message, hint=hint)
        self.digest = digest


class LockedError(DeployTagError):
    exit_status = ExitStatus.LOCKED
    retryable = True


class NotFoundError(DeployTagError):
    exit_status = ExitStatus.NOT_FOUND


class ImageError(DeployTagError):
    """A build failed, or the registry refused or could not be reached."""

    exit_status = ExitStatus.IMAGE


class RetryableImageError(ImageError):
    retryable = True


class DnsError(DeployTagError):
    exit_status = ExitStatus.DNS


class RetryableDnsError(DnsError):
    """The provider timed out, throttled or failed (5xx): trying again may succeed."""

    retryable = True


class DatabaseError(DeployTagError):
    exit_status = ExitStatus.DATABASE


class RetryableDatabaseError(DatabaseError):
    """The server was unreachable or shutting down: trying again may succeed."""

    retryable = True


class MigrationError(DeployTagError):
    exit_status = ExitStatus.MIGRATION


class CommandError(DeployTagError):
    """An external command (helm, git, kubectl) exited non-zero.

    Carries the argument list and exit status; ``output`` is already cut short
    and scrubbed.
    """

    def __init__(
        self,
        message: str,
        *,
        argv: list[str],
        returncode: int,
        output: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.argv = argv
        self.returncode = returncode
        self.output = output


MAX_BODY = 2000
_REDACTED = "[redacted]"


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove every known secret value from ``text`` and cut it short.

    Values shorter than 4 characters are left alone: replacing them would
    mangle ordinary words and they carry no meaningful secrecy.
    """
    for value in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(value, _REDACTED)
    text = _TOKENISH.sub(lambda m: m.group(1) + _REDACTED, text)
    if len(text) > MAX_BODY:
        text = text[: MAX_BODY - 15] + " …[truncated]"
    return text


# Common credential shapes in remote error bodies (bearer tokens, passwords in URLs).
_TOKENISH = re.compile(r"(?i)(bearer\s+|password=|passwd=|token=|://[^/\s:@]+:)[^\s&@'\"]+")
