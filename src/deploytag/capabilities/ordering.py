"""The newest push wins: which of two deploy requests of one branch is newer, and a
board on the environment's Lease where waiting runs see the newest one.

git decides when it can (``merge-base --is-ancestor`` in the app repository): an
ancestor is older. When it cannot (a commit unknown locally, a shallow clone,
histories that diverged after a force push) the times the runs were requested
decide, and the log says so.

The board is one annotation on the Lease, written only when it is still at the
resourceVersion we read (the API server's optimistic concurrency), so runs in
different processes and machines that write at once cannot both win: the loser
re-reads and decides again. A run waiting for the lease refreshes its request on
every poll; one not refreshed for a lease's duration is a dead run's and is ignored.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import msgspec
from msgspec.structs import replace

from deploytag.capabilities.context import RunContext, annotation
from deploytag.capabilities.lock import SupersededError
from deploytag.core.records import asdict
from deploytag.core.timestamps import parse_rfc3339, rfc3339
from deploytag.ports.clock import Clock
from deploytag.ports.cluster import ANNOTATION_PREFIX, LeaseInfo, Leases
from deploytag.ports.git import GitReader

log = logging.getLogger(__name__)

REQUEST_ANNOTATION = ANNOTATION_PREFIX + "newest-request"
# On the namespace: the newest commit deployed, and when it was requested.
NEWEST_COMMIT = annotation("newest-commit")
NEWEST_REQUESTED_AT = annotation("newest-requested-at")
# Conditional writes lost to another writer before we give up until the next poll.
_ROUNDS = 5


class Request(msgspec.Struct, frozen=True):
    """One run's wish to deploy ``commit``; ``requested_at`` is when the run started."""

    commit: str
    requested_at: float
    run: str = ""
    alive_at: float = 0.0  # refreshed by the run while it waits

    def dumps(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str | None) -> Request | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(
                commit=str(data["commit"]),
                requested_at=float(data["requested_at"]),
                run=str(data.get("run", "")),
                alive_at=float(data.get("alive_at", 0.0)),
            )
        except (ValueError, KeyError, TypeError):
            return None  # written by something else: treat as no request


def short(commit: str) -> str:
    return commit[:12] if commit else "(no commit)"


class Ordering:
    """Compares requests by git ancestry, falling back to request times."""

    def __init__(self, *, git: GitReader, repo: Path) -> None:
        self._git = git
        self._repo = repo
        self._ancestry: dict[tuple[str, str], bool | None] = {}

    def older(self, ours: Request, theirs: Request) -> bool:
        """True when ``ours`` is strictly older than ``theirs``: ``theirs`` wins.

        The same commit is never older: its runs are equal, and the lease orders them.
        """
        if ours.commit == theirs.commit:
            return False
        if ours.commit and theirs.commit:
            forwards = self._is_ancestor(ours.commit, theirs.commit)
            if forwards:
                return True
            backwards = self._is_ancestor(theirs.commit, ours.commit)
            if backwards:
                return False
            known = forwards is not None and backwards is not None
            why = "the histories diverged (a force push?)" if known else "a commit is not in the local clone"
        else:
            why = "a commit is not known"
        verdict = ours.requested_at < theirs.requested_at
        log.warning(
            "git cannot tell whether %s or %s is newer (%s); comparing request times instead: %s was "
            "requested at %s, %s at %s, so %s wins",
            short(ours.commit),
            short(theirs.commit),
            why,
            short(ours.commit),
            rfc3339(ours.requested_at),
            short(theirs.commit),
            rfc3339(theirs.requested_at),
            short(theirs.commit if verdict else ours.commit),
        )
        return verdict

    def _is_ancestor(self, ancestor: str, descendant: str) -> bool | None:
        key = (ancestor, descendant)
        if key not in self._ancestry:
            self._ancestry[key] = self._git.is_ancestor(
                repo=self._repo, ancestor=ancestor, descendant=descendant
            )
        return self._ancestry[key]


class RequestBoard:
    """The newest live deploy request of one environment, on its Lease."""

    def __init__(
        self,
        *,
        leases: Leases,
        clock: Clock,
        namespace: str,
        name: str,
        ordering: Ordering,
        mine: Request,
        stale_seconds: float,
    ) -> None:
        self._leases = leases
        self._clock = clock
        self._namespace = namespace
        self._name = name
        self._ordering = ordering
        self.mine = mine
        self._stale = stale_seconds
        self.gave_way_to: Request | None = None  # the newer request we stopped for, if any

    def register(self) -> Request | None:
        """Record (or refresh) our request unless a newer live one is there; return that one."""
        for _ in range(_ROUNDS):
            lease = self._leases.get_lease(namespace=self._namespace, name=self._name)
            newer = self._newer(lease)
            if newer is not None:
                return newer
            now = self._clock.now()
            self.mine = replace(self.mine, alive_at=now)
            written = self._leases.annotate_lease(
                namespace=self._namespace,
                name=self._name,
                annotations={REQUEST_ANNOTATION: self.mine.dumps()},
                version=lease.version if lease is not None else "",
            )
            if written is not None:
                return None
            # Another run wrote first: read again and compare with what it wrote.
        return None  # contended: the next poll decides

    def newer(self) -> Request | None:
        """A newer live request than ours, read only (what the lease holder checks)."""
        return self._newer(self._leases.get_lease(namespace=self._namespace, name=self._name))

    def _newer(self, lease: LeaseInfo | None) -> Request | None:
        if lease is None:
            return None
        recorded = Request.loads(lease.annotations.get(REQUEST_ANNOTATION))
        if recorded is None or recorded.run == self.mine.run:
            return None
        # The holder keeps its lease alive; a waiting run keeps its request alive.
        now = self._clock.now()
        holding = recorded.run == lease.holder and lease.renewed_at + lease.duration_seconds > now
        alive = holding or now - recorded.alive_at <= self._stale
        if alive and self._ordering.older(self.mine, recorded):
            self.gave_way_to = recorded
            return recorded
        return None


def stop_if_older_than_newest(ctx: RunContext, ordering: Ordering, mine: Request) -> None:
    """A late run (a retried CI job) of a commit older than the newest one deployed does not
    roll the branch back; --allow-older-commit (a person's choice) does."""
    previous = ctx.previous
    newest = previous.get(NEWEST_COMMIT) or previous.get(annotation("commit"))
    if not newest:
        return
    at = parse_rfc3339(previous.get(NEWEST_REQUESTED_AT) or previous.get(annotation("deployed-at")))
    deployed = Request(commit=newest, requested_at=at or 0.0)
    if not ordering.older(mine, deployed):
        return
    if ctx.options.allow_older_commit:
        ctx.older_than_newest = True
        ctx.progress.note(text=f"deploying {short(mine.commit)}, older than {short(newest)}, as asked")
        return
    raise SupersededError(
        f"commit {short(mine.commit)} is older than {short(newest)}, already deployed to "
        f"{ctx.names.namespace}; not rolling {ctx.names.branch} back (to do that on purpose: "
        "deploytag rollback, or deploy --allow-older-commit)"
    )


def gave_way(newer: Request | None, mine: Request) -> str | None:
    if newer is None:
        return None
    return (
        f"a newer commit, {short(newer.commit)}, was requested for this environment; "
        f"{short(mine.commit)} gives way to it"
    )
