"""Rendering service results for people (text, rich) and for CI (json).

Progress and diagnostics go to stderr, results to stdout, so
`deploytag deploy -o json | jq` works while a person still sees the steps.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import click

OUTCOME_MARK = {"changed": "✓", "unchanged": "=", "skipped": "-", "failed": "✗", "superseded": "»"}


def error_line(message: str | None) -> None:
    """The one-line error on stderr, also when the report went to stdout as JSON."""
    if message:
        click.echo(f"deploytag: error: {message}", err=True)


def emit_json(data: Mapping[str, Any]) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def finish(report: Any, fmt: str, text: Callable[[Any], None]) -> None:
    """Print a report as JSON or text; a failed one ends the command with its exit status."""
    if fmt == "json":
        emit_json(report.to_dict())
    else:
        text(report)
    if report.exception is not None:
        error_line(report.error)
        click.get_current_context().exit(int(report.exception.exit_status))


def _table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Aligned plain-text columns: readable on a terminal, greppable in CI logs."""
    if title:
        click.echo(title)
    widths = [max([len(c), *(len(str(r[i])) for r in rows)]) for i, c in enumerate(columns)]
    lines = [columns] if any(columns) else []
    lines += [tuple(str(cell) for cell in row) for row in rows]
    for line in lines:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(line[:-1])] + [line[-1]]
        click.echo("  ".join(cells).rstrip())


def plan_text(p: Mapping[str, Any]) -> None:
    if not p["deploy"]:
        click.echo(f"skip: {p['skipped_reason']} (nothing to deploy)")
        return
    rows = [
        ("branch", f"{p['branch']} ({p['branch_source']})"),
        ("commit", p["commit"] or "(none)"),
        ("environment", f"{p['environment']} ({p['kind']})"),
        ("namespace", p["namespace"]),
        ("release", p["release"]),
    ]
    rows += [
        (f"image {i['name']}", ", ".join(f"{i['repository']}:{t}" for t in i["tags"])) for i in p["images"]
    ]
    if p["secret_ids"]:
        keys = p["secret_keys"]
        shown = ", ".join(keys) if keys is not None else "(read at deploy; --read-secrets lists them)"
        rows.append(
            ("secret", f"{p['secret_name']} from {p['secret_provider']} {', '.join(p['secret_ids'])}")
        )
        rows.append(("secret keys", shown))
    if p["database"]:
        db = p["database"]
        rows.append(("database", f"{db['engine']} {db['name']} (role {db['role']})"))
        if "database_exists" in db:
            rows.append(("", f"database exists: {db['database_exists']}, role exists: {db['role_exists']}"))
        elif "exists" in db:
            rows.append(("", db["exists"]))
    rows += [("dns", f"{r['fqdn'] or r['name']}  ← {r['template']}") for r in p["dns_records"]]
    rows.append(("chart", p["chart"] or ""))
    rows += [("values", layer) for layer in p["values_layers"]]
    if p["rendered_dir"]:
        rows.append(("rendered", f"{len(p['manifests'])} manifests in {p['rendered_dir']}"))
    _table(None, ("", ""), [(k, str(v)) for k, v in rows])
    if p["rendered_dir"]:
        findings_text(p["findings"])


def findings_text(findings: Sequence[Mapping[str, Any]]) -> None:
    if not findings:
        click.echo("lint: no findings")
        return
    rows = [
        (f["severity"], f["rule"], f"{f['kind']}/{f['name']}", f["field"], f["message"]) for f in findings
    ]
    _table(f"lint: {len(findings)} findings", ("severity", "rule", "object", "field", "what to do"), rows)


def rules_text(rules: Sequence[Mapping[str, str]]) -> None:
    _table(None, ("rule", "default", "checks"), [(r["rule"], r["default"], r["description"]) for r in rules])


def config_text(rows: Sequence[Mapping[str, Any]], *, explain: bool) -> None:
    if explain:
        _table(None, ("key", "value", "source"), [(r["key"], _short(r["value"]), r["source"]) for r in rows])
    else:
        for r in rows:
            click.echo(f"{r['key']} = {_short(r['value'])}")


def values_text(data: Mapping[str, Any], *, explain: bool) -> None:
    if not explain:
        import yaml

        click.echo(yaml.safe_dump(data["values"], sort_keys=False).rstrip())
        return
    click.echo("layers (lowest first): " + "; ".join(data["layers"]))
    rows = []
    for item in data["keys"]:
        over = ", ".join(item.get("overrides", []))
        rows.append((item["key"], _short(item["value"]), item["source"], over))
    _table(None, ("key", "value", "source", "overrides"), rows)


def render_text(data: Mapping[str, Any]) -> None:
    click.echo(f"rendered {len(data['manifests'])} manifests into {data['rendered_dir']}")
    for m in data["manifests"]:
        click.echo(f"  {m['file']}: {m['kind']}/{m['name']}")


def deploy_text(report: Any) -> None:
    head = {
        "succeeded": "deployed",
        "unchanged": "up to date",
        "failed": "FAILED",
        "skipped": "skipped",
        "superseded": "superseded",
    }[report.outcome]
    if report.outcome == "skipped":
        click.echo(f"skip: {report.error}")
        return
    if report.outcome == "superseded":
        click.echo(f"superseded: {report.error}")  # exit 0: a newer run does (or did) the deploy
        return
    rev = f" revision {report.revision}" if report.revision else ""
    click.echo(
        f"{head}: {report.branch} -> namespace {report.namespace}, release {report.release}{rev} "
        f"({report.seconds:.1f} s)"
    )
    for url in report.urls:
        click.echo(f"  {url}")
    if report.cost:
        click.echo(f"  cost: {_cost(report.cost)}")
    if report.digest:
        click.echo(report.digest, err=True)


def rollback_text(report: Any) -> None:
    if report.outcome == "skipped":
        click.echo(f"skip: {report.error}")
        return
    target = f"revision {report.to_revision}" if report.to_revision else "the last good revision"
    if report.to_commit:
        target += f" (commit {report.to_commit[:12]})"
    where = f"{report.branch} -> namespace {report.namespace}, release {report.release}"
    if report.outcome == "rolled-back":
        click.echo(
            f"rolled back: {where} to {target}, now revision {report.revision} ({report.seconds:.1f} s)"
        )
    elif report.outcome == "unchanged":
        click.echo(f"up to date: {where} already runs {target}")
    else:
        click.echo(f"FAILED: rolling {where} back to {target}")


def destroy_text(report: Any) -> None:
    if report.outcome == "skipped":
        click.echo(f"skip: {report.error}")
        return
    for r in report.removed:
        state = "gone" if r.verified_gone else "STILL PRESENT"
        was = "removed" if r.existed else "absent"
        click.echo(f"{r.what} {r.name}: {was}, verified {state}")
    for left in report.left_behind:
        click.echo(f"left behind: {left.line()}")
    if report.outcome == "absent":
        click.echo(f"nothing to remove for {report.branch} ({report.seconds:.1f} s)")
    elif report.outcome == "removed":
        click.echo(f"destroyed {report.namespace} ({report.seconds:.1f} s)")


def environments_text(rows: Sequence[Any]) -> None:
    if not rows:
        click.echo("no environments")
        return
    _table(
        None,
        (
            "namespace",
            "branch",
            "env",
            "commit",
            "outcome",
            "rev",
            "updated",
            "expires",
            "url",
            "database",
            "cost/month",
        ),
        [
            (
                r.namespace,
                r.branch,
                r.environment,
                r.commit,
                r.outcome + (" (asleep)" if r.sleeping else ""),
                r.revision,
                r.updated_at,
                r.expires_at,
                " ".join(r.urls),
                r.database,
                "" if r.monthly_cost is None else f"{r.monthly_cost:.2f} {r.currency}",
            )
            for r in rows
        ],
    )


def gc_text(report: Any) -> None:
    """What goes and why (the table a dry run is for), then what stays and the totals."""
    going = [e for e in report.environments if e.reason]
    if report.dry_run:
        click.echo(
            f"dry run: nothing changed; {len(going)} of {len(report.environments)} environments would go"
        )
    rows = [
        (e.namespace, e.branch, e.outcome, e.reason, e.error or e.detail)
        for e in sorted(report.environments, key=lambda e: (not e.reason, e.namespace))
    ]
    if rows:
        _table(None, ("namespace", "branch", "outcome", "reason", "detail"), rows)
    else:
        click.echo("no environments")
    for e in going:
        if e.teardown:
            for r in e.teardown.get("removed", []):
                state = "verified gone" if r["verified_gone"] else "STILL PRESENT"
                click.echo(f"  {e.namespace}: {r['what']} {r['name']} {state}")
    for e in report.environments:
        if e.sleep:
            click.echo(f"  {e.namespace}: {e.sleep.replace('-', ' ')}")
    for stuck in report.stuck:
        held = ", ".join(f"{h['kind']}/{h['name']} ({', '.join(h['finalizers'])})" for h in stuck["holding"])
        click.echo(f"stuck terminating since {stuck['deleting_since']}: {stuck['namespace']}  {held}")
    for done in report.force_finalized:
        click.echo(f"force-finalized {done['namespace']}: {'gone' if done['gone'] else 'STILL PRESENT'}")
    for o in report.orphans:
        orphan = o["orphan"]
        state = (
            "would remove" if o["dry_run"] else ("removed" if o["removed"] else f"NOT removed: {o['error']}")
        )
        click.echo(
            f"orphan {orphan['kind']} {orphan['name']} ({orphan['where']}): {state}; {orphan['reason']}"
        )
    for line in [f"{k}: {v}" for k, v in report.checks.items() if v] + report.warnings:
        click.echo(line, err=True)
    if not report.dry_run:
        click.echo(
            f"removed {len(report.removed)}, failed {len(report.failed)}, expiring {len(report.expiring)} "
            f"({report.seconds:.1f} s)"
        )


def pin_text(report: Any) -> None:
    if report.pinned_until:
        click.echo(f"pinned {report.namespace} ({report.branch}) until {report.pinned_until}")
    else:
        click.echo(f"unpinned {report.namespace} ({report.branch})")
    click.echo(f"expires: {report.expires_at or 'unknown'}")


def _last_good(good: Mapping[str, Any]) -> str:
    if not good:
        return "- (no verified deploy yet)"
    commit = str(good.get("commit") or "")
    return f"revision {good['revision']}" + (f" (commit {commit[:12]})" if commit else "")


def status_text(st: Any) -> None:
    env = st.environment
    rows = [
        ("namespace", f"{env.namespace} ({env.phase}{', asleep' if env.sleeping else ''})"),
        ("branch", f"{env.branch} ({env.environment}, {env.kind})"),
        ("commit", env.commit),
        ("outcome", f"{env.outcome}, revision {env.revision or '-'}"),
        ("last good", _last_good(st.last_good)),
        ("deployed", st.deployed_at or "-"),
        ("updated", env.updated_at or "-"),
        ("tests", st.tests or "-"),
        ("expires", env.expires_at or "-"),
    ]
    if env.pinned_until:
        rows.append(("pinned", f"until {env.pinned_until}"))
    if st.last_run:
        steps = ", ".join(f"{k} {v}" for k, v in st.last_run.get("steps", {}).items())
        rows.append(("last run", f"{st.last_run.get('state', '')}: {steps}"))
    rows += [(f"image {name}", str(i.get("digest") or i.get("tags"))) for name, i in st.images.items()]
    if st.database:
        db = st.database
        rows.append(
            ("database", f"{db.get('engine', '')} {db.get('database', '')} (role {db.get('role', '')})")
        )
    if st.dns:
        rows.append(("dns", f"{st.dns.get('provider', '')}: {', '.join(st.dns.get('names', []))}"))
    rows += [("url", url) for url in env.urls]
    if st.secret_versions:
        rows.append(("secrets", ", ".join(f"{k}@{v}" for k, v in st.secret_versions.items())))
    if st.cost:
        rows.append(("cost", _cost(st.cost)))
    _table(None, ("", ""), rows)


def _cost(cost: Mapping[str, Any]) -> str:
    """core.cost.CostEstimate.to_dict() as one readable estimate."""
    from deploytag.core.cost import CostEstimate

    return CostEstimate.from_dict(cost).text()


def _short(value: Any, limit: int = 70) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class StderrProgress:
    """One line per finished step with its timing; on a terminal, a spinner while a step runs."""

    def __init__(self) -> None:
        self._status: Any = None
        self._console: Any = None
        if sys.stderr.isatty():
            from rich.console import Console

            self._console = Console(stderr=True, highlight=False)

    def step_started(self, *, step: str) -> None:
        if self._console is not None:
            self._status = self._console.status(f"{step}…")
            self._status.start()

    def step_finished(self, *, step: str, outcome: str, seconds: float, detail: str) -> None:
        self._stop()
        mark = OUTCOME_MARK.get(outcome, "?")
        click.echo(f"{mark} {step:<10} {seconds:6.2f} s  {detail}", err=True)

    def note(self, *, text: str) -> None:
        self._stop()
        click.echo(f"  {text}", err=True)

    def _stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


@contextlib.contextmanager
def progress(*, enabled: bool) -> Iterator[Any]:
    if not enabled:
        from deploytag.ports.progress import SilentProgress

        yield SilentProgress()
        return
    listener = StderrProgress()
    try:
        yield listener
    finally:
        listener._stop()
        sys.stderr.flush()
