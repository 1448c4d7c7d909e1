"""Destroy's checks before its first removal, shared by the capabilities that remove something.

A destroy that stops half-way (release gone, namespace and database left) is
worse than one that never started: the namespace holds the record of what the
database is, so once it is gone nothing finds the database again. So every
provider a removal will need is built and asked one read first (each
capability's ``check_removal``): helm, the DNS provider (its token and zone),
the database server (admin URL and a query), and through those the secret
store that holds their credentials. A missing one is a one-line error with how
to supply it, or how to skip that part on purpose.
"""

from __future__ import annotations

from collections.abc import Callable

from deploytag.core.errors import DeployTagError

# The parts of an environment a person may choose to leave behind: they live outside the cluster, on
# servers that can be gone for good. The release and the namespace are never skipped.
SKIPPABLE = ("database", "dns")


def checked(what: str, skip_hint: str, check: Callable[[], object]) -> None:
    """Run ``check``; its error says that nothing was removed and, where there is one, how to skip."""
    try:
        check()
    except DeployTagError as e:
        e.message = f"nothing removed: destroy needs {what}: {e.message}"
        if skip_hint:
            e.hint = f"{e.hint}, or pass {skip_hint}" if e.hint else f"pass {skip_hint}"
        e.args = (e.message,)
        raise
