"""The text of the one pull/merge request comment: Markdown, found again by its hidden marker.

Pure functions from the run's records to a body; nothing here talks to a platform.
Every text from a run (errors, digests) is scrubbed and cut short before it is
quoted, and cannot close the code fence or forge a second marker.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from deploytag.core.cost import CostEstimate
from deploytag.core.errors import scrub
from deploytag.service.deploy import DeployReport

if TYPE_CHECKING:
    from deploytag.service.destroy import DestroyReport  # annotations only: deploy does not load destroy

MARKER_PREFIX = "<!-- deploytag:"
DIGEST_LINES = 40
DIGEST_CHARS = 3000
SUMMARY_CHARS = 160


def marker(*, app: str, branch: str) -> str:
    """The hidden marker of one app's comment for one branch (branch percent-encoded: ``-->`` is legal)."""
    return f"{MARKER_PREFIX}app={app};branch={urllib.parse.quote(branch, safe='/')} -->"


class Header(msgspec.Struct, frozen=True, kw_only=True):
    app: str
    branch: str
    environment: str | None = None
    namespace: str | None = None


class ExpiringNotice(msgspec.Struct, frozen=True, kw_only=True):
    """What gc knows about an environment it will remove soon (the expiring-soon comment)."""

    app: str
    branch: str
    expires_at: float  # epoch seconds
    namespace: str | None = None
    urls: Sequence[str] = ()
    reason: str = "its time to live ends"  # e.g. "no deploy for 7 days"


def stamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def duration(seconds: float) -> str:
    if seconds < 10:
        return f"{max(0.0, seconds):.1f} s"
    seconds = round(seconds)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def deploying(header: Header, *, commit: str, started_at: float) -> str:
    where = f" to `{header.namespace}`" if header.namespace else ""
    return _compose(
        header,
        "deploying",
        [f"Deploying commit `{commit[:12]}`{where}, started {stamp(started_at)}."],
    )


def deployed(
    header: Header,
    report: DeployReport,
    *,
    finished_at: float,
    pushed_at: float | None,
    database: str | None,
    secrets: Iterable[str] = (),
) -> str:
    """Ready (the outcome succeeded or unchanged) or failed; a row only for what the report carries."""
    if report.outcome == "failed":
        return _failed(header, report, finished_at=finished_at, secrets=secrets)
    rows: list[tuple[str, str]] = []
    urls = report.urls or []
    rows.append(("URL", "<br>".join(_link(u) for u in urls) if urls else "none exposed"))
    rows.append(("Commit", f"`{report.commit[:12]}`"))
    if header.namespace:
        rows.append(("Namespace", f"`{header.namespace}`"))
    if pushed_at is not None:
        rows.append(("Push to ready", duration(finished_at - pushed_at)))
    else:
        rows.append(("Deploy took", duration(report.seconds)))
    images = [_image(i) for i in report.images]
    if images:
        rows.append(("Images", "<br>".join(f"`{i}`" for i in images if i)))
    if database:
        rows.append(("Database", f"`{database}`"))
    # Carried by the report once gc (expiry) and cost estimates add them.
    expires = _expiry(getattr(report, "expires_at", None))
    if expires:
        rows.append(("Expires", expires))
    cost = _cost(getattr(report, "estimated_cost", None) or getattr(report, "cost", None))
    if cost:
        rows.append(("Estimated cost", cost))
    state = "ready" if report.outcome in ("succeeded", "unchanged") else report.outcome
    lines = ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    return _compose(header, state, lines, updated=finished_at)


def _failed(header: Header, report: DeployReport, *, finished_at: float, secrets: Iterable[str]) -> str:
    hidden = list(secrets)
    error = scrub(report.error or "", hidden)
    summary = _inline(error[:SUMMARY_CHARS] + ("…" if len(error) > SUMMARY_CHARS else ""))
    # The digest (failing objects, events, logs) when verify wrote one, else the whole error.
    detail = _fenced(scrub(report.digest, hidden) if report.digest else error or "(no detail)")
    lines = [
        f"Commit `{report.commit[:12]}` failed after {duration(report.seconds)}"
        + (f": {summary}" if summary else "."),
        "",
        "<details open><summary>Failure digest</summary>",
        "",
        detail,
        "",
        "</details>",
        "",
        "The previous working release, if any, keeps serving.",
    ]
    return _compose(header, "failed", lines, updated=finished_at)


def destroyed(header: Header, report: DestroyReport, *, finished_at: float) -> str:
    lines = ["| Resource | Name | Verified gone |", "|---|---|---|"]
    for r in report.removed:
        gone = "yes" if r.verified_gone else "**no**"
        lines.append(f"| {r.what} | `{_inline(r.name)}` | {gone} |")
    for left in report.left_behind:
        lines.append(
            f"| {left.what} | `{_inline(left.name)}` | no: {_inline(left.reason)} ({_inline(left.where)}) |"
        )
    if report.outcome == "absent":
        lines = ["Nothing was left to remove."]
    state = "destroyed" if report.outcome in ("removed", "absent") else "destroy failed"
    if report.error:
        lines += ["", f"Error: {_inline(scrub(report.error))}"]
    return _compose(header, state, lines, updated=finished_at)


def expiring(notice: ExpiringNotice, *, now: float) -> str:
    header = Header(app=notice.app, branch=notice.branch, namespace=notice.namespace)
    lines = [
        f"This environment will be removed at {stamp(notice.expires_at)} "
        f"(in {duration(notice.expires_at - now)}): {_inline(notice.reason)}.",
        "Push a commit or run `deploytag deploy` to keep it, or hold it back with "
        f"`deploytag pin --branch {_inline(notice.branch)} --hours 48`.",
    ]
    if notice.urls:
        lines += ["", "URL: " + ", ".join(_link(u) for u in notice.urls)]
    return _compose(header, "expiring soon", lines, updated=now)


def _compose(header: Header, state: str, lines: list[str], *, updated: float | None = None) -> str:
    title = f"### DeployTag · `{header.app}` · `{_inline(header.branch)}`: **{state}**"
    out = [marker(app=header.app, branch=header.branch), title, "", *lines]
    if updated is not None:
        out += ["", f"<sub>Updated {stamp(updated)}</sub>"]
    return "\n".join(out) + "\n"


def _link(url: str) -> str:
    return f"[{_inline(url)}]({url})" if url.startswith(("http://", "https://")) else f"`{_inline(url)}`"


def _image(image: Mapping[str, Any]) -> str:
    """``repository:tag`` (the first tag: the commit's) and the digest's start when known."""
    tags = image.get("tags") or []
    ref = f"{image.get('repository') or image.get('name')}:{tags[0]}" if tags else str(image.get("name"))
    digest = str(image.get("digest") or "")
    return _inline(ref + (f"@{digest[:19]}" if digest else ""))


def _expiry(value: Any) -> str | None:
    if isinstance(value, int | float):
        return stamp(float(value))
    return _inline(str(value)) if value else None


def _cost(value: Any) -> str | None:
    if isinstance(value, Mapping) and {"cpu", "memory_gib", "monthly", "currency"} <= value.keys():
        return _inline(CostEstimate.from_dict(value).text())
    if isinstance(value, Mapping):
        return ", ".join(f"{_inline(str(k))}: {_inline(str(v))}" for k, v in value.items()) or None
    summary = getattr(value, "summary", None)
    return _inline(str(summary if summary is not None else value)) if value else None


def _inline(text: str) -> str:
    """One line, safe in a table cell and outside code: no pipes, markers or HTML comments."""
    return " ".join(text.split()).replace("|", "\\|").replace("<!--", "&lt;!--").replace("-->", "--&gt;")


def _fenced(text: str) -> str:
    """The last lines of ``text`` in a fence its content cannot close."""
    lines = text.replace(MARKER_PREFIX, "<!- deploytag:").splitlines()[-DIGEST_LINES:]
    body = "\n".join(lines)[-DIGEST_CHARS:]
    fence = "~~~~"
    while fence in body:
        fence += "~"
    return f"{fence}text\n{body}\n{fence}"
