"""The last good revision of an environment, and returning to it.

Helm's history cannot say which revision worked: a release whose pods crash-loop
is still "deployed" (helm applied it), and becomes "superseded" by the next one.
So DeployTag records on the namespace which revision it verified ready, with its
commit, and only a successful deploy or rollback moves that record. ``--atomic``
and ``deploytag rollback`` return to it, never to "the previous revision".
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

import msgspec

from deploytag.capabilities.context import annotation, dumps
from deploytag.core.errors import DeployTagError, ReleaseError
from deploytag.ports.helm import Helm, KubeTarget, ReleaseInfo
from deploytag.ports.progress import ProgressListener

log = logging.getLogger(__name__)

LAST_GOOD_REVISION = annotation("last-good-revision")
LAST_GOOD_COMMIT = annotation("last-good-commit")
# Revision -> commit of the revisions verified ready, newest last, so a rollback to an
# explicit revision can name its commit.
GOOD_REVISIONS = annotation("good-revisions")
KEEP_GOOD = 20
# Helm statuses a revision can be restored from; "failed" and "pending-*" never.
RESTORABLE = frozenset({"deployed", "superseded"})


class GoodRevision(msgspec.Struct, frozen=True):
    revision: int
    commit: str = ""  # "" when not recorded (chosen by number, not deployed by DeployTag)

    def describe(self) -> str:
        return f"revision {self.revision}" + (f" (commit {self.commit[:12]})" if self.commit else "")


def last_good(annotations: Mapping[str, str]) -> GoodRevision | None:
    """The recorded last good revision; environments deployed before this record existed
    carry ``revision``/``commit``, which DeployTag only ever wrote after a successful run."""
    raw = annotations.get(LAST_GOOD_REVISION)
    commit = annotations.get(LAST_GOOD_COMMIT, "")
    if raw is None:
        raw, commit = annotations.get(annotation("revision")), annotations.get(annotation("commit"), "")
    try:
        return GoodRevision(int(raw), commit) if raw else None
    except ValueError:
        return None


def good_revisions(annotations: Mapping[str, str]) -> dict[int, str]:
    try:
        data = json.loads(annotations.get(GOOD_REVISIONS, "{}"))
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    out: dict[int, str] = {}
    for key, value in data.items():
        if str(key).isdigit():
            out[int(key)] = str(value)
    return out


def record_good(annotations: Mapping[str, str], good: GoodRevision) -> dict[str, str | None]:
    """The annotation values that make ``good`` the last good revision."""
    known = good_revisions(annotations)
    known[good.revision] = good.commit
    kept = dict(sorted(known.items())[-KEEP_GOOD:])
    return {
        LAST_GOOD_REVISION: str(good.revision),
        LAST_GOOD_COMMIT: good.commit,
        GOOD_REVISIONS: dumps({str(k): v for k, v in kept.items()}),
    }


def check_restorable(history: list[ReleaseInfo], good: GoodRevision, *, release: str) -> None:
    """Refuse a revision helm no longer has, or one that failed."""
    entry = next((h for h in history if h.revision == good.revision), None)
    if entry is None:
        kept = ", ".join(str(h.revision) for h in history[-5:]) or "none"
        raise ReleaseError(
            f"{good.describe()} of {release} is not in helm's release history any more "
            f"(it keeps the last revisions only; latest: {kept})",
            hint="deploy a working commit instead",
        )
    if entry.status not in RESTORABLE:
        raise ReleaseError(
            f"{good.describe()} of {release} is {entry.status} in helm's history; refusing to roll back to it",
            hint="pick a revision that was deployed (see `deploytag status` and `helm history`)",
        )


def restore(
    *,
    helm: Helm,
    target: KubeTarget,
    release: str,
    namespace: str,
    good: GoodRevision,
    timeout_seconds: int,
    progress: ProgressListener,
    why: str = "the last good one",
) -> ReleaseInfo:
    """``helm rollback`` to ``good`` and wait for it; the new revision helm made."""
    history = helm.history(release=release, namespace=namespace, target=target)
    check_restorable(history, good, release=release)
    progress.note(text=f"rolling back {release} to {good.describe()}, {why}")
    try:
        _leave_failed_revision(helm, target, release, namespace, history, good, timeout_seconds)
        helm.rollback(
            release=release,
            namespace=namespace,
            revision=good.revision,
            wait=True,
            timeout_seconds=timeout_seconds,
            target=target,
        )
    except DeployTagError as e:
        raise ReleaseError(
            f"rolling {release} back to {good.describe()} failed: {e.message}", hint=e.hint
        ) from e
    now = helm.status(release=release, namespace=namespace, target=target)
    if now is None:
        raise ReleaseError(f"release {release} is gone after rolling back to {good.describe()}")
    return now


def _leave_failed_revision(
    helm: Helm,
    target: KubeTarget,
    release: str,
    namespace: str,
    history: list[ReleaseInfo],
    good: GoodRevision,
    timeout_seconds: int,
) -> None:
    """``helm rollback`` diffs against the latest revision's manifest. When that one failed (the
    API server refused part of it), what runs is still the revision helm marks deployed, and
    objects only that one has would be left behind, or stop the rollback ("original object ...
    not found"; helm/helm#12436, #13346). So first roll back to that deployed revision: helm then
    records a revision carrying its manifest, whether or not applying it works, and the rollback
    to ``good`` diffs against what really runs."""
    if not history or history[-1].status != "failed":
        return
    deployed = next((h for h in reversed(history) if h.status == "deployed"), None)
    if deployed is None:
        return
    try:
        helm.rollback(
            release=release,
            namespace=namespace,
            revision=deployed.revision,
            wait=False,  # it may be the broken one: only its manifest matters here
            timeout_seconds=timeout_seconds,
            target=target,
        )
    except DeployTagError as e:
        log.info(
            "stepping %s onto revision %d first did not apply cleanly (expected): %s",
            release,
            deployed.revision,
            e,
        )
