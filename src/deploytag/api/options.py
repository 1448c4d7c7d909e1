"""The options of each API call: frozen, keyword-only records with the CLI's defaults.

``branch`` and ``commit`` default to the CI variables in the runtime's environment,
else git's checked-out branch and HEAD, as the CLI's --branch and --commit do.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import msgspec


class DeployOptions(msgspec.Struct, frozen=True, kw_only=True):
    branch: str | None = None
    commit: str | None = None
    set_values: Mapping[str, str] = msgspec.field(default_factory=dict)  # chart values applied last
    atomic: bool = False
    supersede: bool = False
    lock_wait_seconds: int | None = None  # default: cluster.lock_wait_seconds
    timeout_seconds: int | None = None  # default: chart.timeout_seconds
    skip_tests: bool = False
    adopt: bool = False
    force: bool = False
    skip_build: bool = False
    rotate_database_password: bool = False
    allow_older_commit: bool = False
    feedback: bool | None = None  # PR/MR comment and commit status; None: feedback.enabled, else auto
    pull_request: int | None = None  # default: the CI event's request, else looked up by branch


class DestroyOptions(msgspec.Struct, frozen=True, kw_only=True):
    branch: str | None = None
    commit: str | None = None
    allow_permanent: bool = False
    timeout_seconds: int = 300
    skip: frozenset[str] = frozenset()  # "database", "dns": left behind on purpose, and reported
    feedback: bool | None = None  # the PR/MR comment becomes the teardown receipt; None: auto
    pull_request: int | None = None


class PlanOptions(msgspec.Struct, frozen=True, kw_only=True):
    branch: str | None = None
    commit: str | None = None
    set_values: Mapping[str, str] = msgspec.field(default_factory=dict)
    render: bool = True  # False: derive names only, run no helm
    output_dir: Path | None = None  # default: REPO/.deploytag/rendered
    read_secrets: bool = False  # also list key names from a cloud secret store
    check_cluster: bool = False  # also refuse as deploy would: another branch's names, limits.*


class RollbackOptions(msgspec.Struct, frozen=True, kw_only=True):
    branch: str | None = None
    commit: str | None = None
    revision: int | None = None  # default: the last good revision recorded on the environment
    timeout_seconds: int | None = None
    lock_wait_seconds: int | None = None


class StatusOptions(msgspec.Struct, frozen=True, kw_only=True):
    branch: str | None = None
    commit: str | None = None


class ListOptions(msgspec.Struct, frozen=True, kw_only=True):
    all_apps: bool = False  # every app's environments, not only the configured app's


class ValuesOptions(msgspec.Struct, frozen=True, kw_only=True):
    branch: str | None = None
    commit: str | None = None
    set_values: Mapping[str, str] = msgspec.field(default_factory=dict)


class RenderOptions(msgspec.Struct, frozen=True, kw_only=True):
    branch: str | None = None
    commit: str | None = None
    set_values: Mapping[str, str] = msgspec.field(default_factory=dict)
    output_dir: Path | None = None  # default: REPO/.deploytag/rendered


class LintOptions(msgspec.Struct, frozen=True, kw_only=True):
    branch: str | None = None
    commit: str | None = None
    set_values: Mapping[str, str] = msgspec.field(default_factory=dict)


class BuildOptions(msgspec.Struct, frozen=True, kw_only=True):
    branch: str | None = None
    commit: str | None = None


class DnsOptions(msgspec.Struct, frozen=True, kw_only=True):
    branch: str | None = None
    commit: str | None = None
    # Each replaces its dns.* setting for this call when given (the CLI's flags).
    records: tuple[str, ...] = ()  # record name templates: dns.records
    provider: str | None = None  # dns.provider
    zone: str | None = None  # dns.zone
    zone_id: str | None = None  # dns.zone_id (the provider looks the zone's name up)
    target: str | None = None  # dns.target.address: instead of discovering the load balancer
    delete: bool = False  # delete the branch's records (only ours)
    dry_run: bool = False  # check and show, write nothing


class InitOptions(msgspec.Struct, frozen=True, kw_only=True):
    ci: str | None = None  # "github" or "gitlab": also write that CI's workflow
    force: bool = False  # overwrite files that exist (never without it)
    dry_run: bool = False  # report what would be written, write nothing
    app: str | None = None  # default: the git remote's repository name, else the directory's


class GcOptions(msgspec.Struct, frozen=True, kw_only=True):
    remote: str | None = None  # git remote whose branches are alive; default gc.remote ("origin")
    dry_run: bool = False  # decide and report only: nothing removed, nothing marked
    parallel: int | None = None  # environments removed at once; default gc.parallel
    all_apps: bool = False  # every app's previews (other apps' by TTL only), not only this app's
    warn_hours: float | None = None  # mark previews expiring within this many hours; default gc.warn_hours
    ttl_hours: float | None = None  # override ttl_hours for this run
    timeout_seconds: int = 300  # per environment: how long its destroy waits for the namespace to go
    sleep_after_hours: float | None = None  # idle previews put to sleep; default gc.sleep_after_hours
    force_finalize: bool = False  # clear the finalizers holding namespaces stuck terminating
    orphan_sweep: bool = True  # also remove what no live environment owns (reported only in a dry run)
    actor: str | None = None  # who runs gc (recorded by sleep, force-finalize); default from the environment


class PinOptions(msgspec.Struct, frozen=True, kw_only=True):
    branch: str | None = None
    commit: str | None = None
    hours: float | None = None  # pin for this many hours from now
    until: str | None = None  # pin until this time (RFC 3339, UTC when no offset); neither: indefinitely


class UnpinOptions(msgspec.Struct, frozen=True, kw_only=True):
    branch: str | None = None
    commit: str | None = None
