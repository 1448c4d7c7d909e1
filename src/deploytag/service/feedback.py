"""Pull/merge request feedback for deploy, destroy and gc: one comment edited in place, a commit status.

``open_session`` picks the platform (``feedback.provider``, else the one whose CI
variables are set), finds the token (secret store, then environment) and builds
the provider from its entry point. The session never raises: a platform that is
down, refuses (403), has no such request (404) or rate-limits past the retry is
one warning line, and the next run finds the comment by its marker and rewrites it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

import msgspec

from deploytag.adapters.plugins import available, load_provider, own
from deploytag.core.branch import BranchRef
from deploytag.core.config import FeedbackConfig, LoadedConfig
from deploytag.core.errors import DeployTagError, scrub
from deploytag.ports.clock import Clock
from deploytag.ports.factories import FeedbackFactory
from deploytag.ports.feedback import (
    CommitStatus,
    Feedback,
    FeedbackError,
    FeedbackUnreachable,
    PullRequest,
    StatusState,
)
from deploytag.ports.secrets import SecretStore
from deploytag.service import feedback_body as body
from deploytag.service.deploy import DeployReport
from deploytag.service.feedback_body import ExpiringNotice, Header
from deploytag.service.resolve import target_for

if TYPE_CHECKING:
    from deploytag.service.destroy import DestroyReport  # annotations only: deploy does not load destroy

T = TypeVar("T")
P = ParamSpec("P")

__all__ = [
    "ExpiringNotice",
    "FeedbackChoice",
    "FeedbackSession",
    "notify_expiring",
    "open_session",
    "reported_deploy",
    "reported_destroy",
]

GROUP = "deploytag.feedback"
WARNING = (
    "warning: pull request feedback not posted: {problem} (the deploy is unaffected; the next run repairs it)"
)
# A push older than this is not "the push" of this run (a re-run, or an old event replayed).
_PUSH_WINDOW_SECONDS = 24 * 3600


class FeedbackChoice(msgspec.Struct, frozen=True, kw_only=True):
    """The caller's flags: ``enabled`` (--feedback/--no-feedback) and ``pull_request`` (--pr N)."""

    enabled: bool | None = None
    pull_request: int | None = None


def _never_raises(
    method: Callable[Concatenate[FeedbackSession, P], None],
) -> Callable[Concatenate[FeedbackSession, P], None]:
    """Feedback is a side channel: whatever goes wrong in it (a bug included) is one warning line,
    never an exception that would change a finished deploy's outcome or exit status."""

    @functools.wraps(method)
    def guarded(self: FeedbackSession, /, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            method(self, *args, **kwargs)
        except Exception as e:
            self._warn(f"internal error ({type(e).__name__}: {e})")

    return guarded


class FeedbackSession(msgspec.Struct, kw_only=True):
    feedback: Feedback
    app: str
    clock: Clock
    warn: Callable[[str], None]
    note: Callable[[str], None] = lambda _: None
    commit_status: bool = True
    pull_request: int | None = None  # given; else looked up per branch
    secrets: tuple[str, ...] = ()
    _requests: dict[str, PullRequest | None] = msgspec.field(default_factory=dict)
    _warned: bool = False
    _dead: bool = False  # unreachable once: later calls in this run would only wait

    @_never_raises
    def deploying(self, *, header: Header, commit: str, started_at: float) -> None:
        self._status(commit, "pending", "Deploying", None)
        self._comment(header, body.deploying(header, commit=commit, started_at=started_at), "deploying")

    @_never_raises
    def deployed(
        self, *, header: Header, report: DeployReport, started_at: float, database: str | None
    ) -> None:
        """The run's end: ready (succeeded, unchanged) or failed; superseded and skipped runs say nothing."""
        if report.outcome not in ("succeeded", "unchanged", "failed"):
            return
        finished = self.clock.now()
        request = self._request(header.branch)
        pushed = request.pushed_at if request is not None else None
        if pushed is not None and not (0 <= started_at - pushed <= _PUSH_WINDOW_SECONDS):
            pushed = None
        text = body.deployed(
            header, report, finished_at=finished, pushed_at=pushed, database=database, secrets=self.secrets
        )
        url = report.urls[0] if report.urls else None
        if report.outcome == "failed":
            error = (
                scrub(report.error or "failed", self.secrets).splitlines()[0] if report.error else "failed"
            )
            self._status(report.commit, "failure", f"Deploy failed: {error}", None)
        else:
            self._status(report.commit, "success", f"Ready at {url}" if url else "Ready", url)
            if url and not self._dead:
                self._call(lambda: self.feedback.link_environment(url=url))
        self._write(request, header, text, "ready" if report.outcome != "failed" else "failed")

    @_never_raises
    def destroyed(self, *, header: Header, report: DestroyReport) -> None:
        if report.outcome == "skipped":
            return
        text = body.destroyed(header, report, finished_at=self.clock.now())
        self._comment(header, text, "destroyed" if report.outcome != "failed" else "destroy failed")

    @_never_raises
    def expiring_soon(self, *, notice: ExpiringNotice) -> None:
        """For gc (``deploytag gc --warn-hours``): the comment says when and why the environment goes."""
        header = Header(app=notice.app, branch=notice.branch, namespace=notice.namespace)
        self._comment(header, body.expiring(notice, now=self.clock.now()), "expiring soon")

    def _request(self, branch: str) -> PullRequest | None:
        if self.pull_request is not None:
            return PullRequest(number=self.pull_request)
        if self._dead:
            return None
        if branch not in self._requests:
            answered, found = self._attempt(lambda: self.feedback.pull_request_for(branch=branch))
            if not answered:
                return None  # warned; asked again at the next step of this run
            self._requests[branch] = found
            if found is None:
                self.note(f"no open {self.feedback.platform} request for {branch}: no comment")
        return self._requests[branch]

    def _comment(self, header: Header, text: str, state: str) -> None:
        if not self._dead:
            self._write(self._request(header.branch), header, text, state)

    def _write(self, request: PullRequest | None, header: Header, text: str, state: str) -> None:
        if request is None or self._dead:
            return
        marker = body.marker(app=header.app, branch=header.branch)
        written = self._call(
            lambda: self.feedback.upsert_comment(number=request.number, marker=marker, body=text)
        )
        if written is not None:
            verb = "posted" if written.created else "updated"
            self.note(f"{self.feedback.platform} #{request.number}: comment {verb} ({state})")

    def _status(self, commit: str, state: StatusState, description: str, url: str | None) -> None:
        if not self.commit_status or self._dead or not commit:
            return
        status = CommitStatus(
            state=state, context=f"deploytag/{self.app}", description=description, target_url=url
        )
        self._call(lambda: self.feedback.set_commit_status(commit=commit, status=status))

    def _call(self, action: Callable[[], T]) -> T | None:
        return self._attempt(action)[1]

    def _attempt(self, action: Callable[[], T]) -> tuple[bool, T | None]:
        """(True, its result), or (False, None) after warning: a failure never leaves the session."""
        try:
            return True, action()
        except FeedbackError as e:
            self._dead = self._dead or isinstance(e, FeedbackUnreachable)
            self._warn(str(e))
        except (KeyError, TypeError, ValueError) as e:
            # An answer without the fields the API documents: still never the deploy's problem.
            self._warn(f"{self.feedback.platform} answered in an unexpected shape ({type(e).__name__}: {e})")
        return False, None

    def _warn(self, problem: str) -> None:
        if not self._warned:  # one line per run: the next run repairs whatever this one missed
            self._warned = True
            self.warn(WARNING.format(problem=" ".join(scrub(problem, self.secrets).split())))


def open_session(
    *,
    loaded: LoadedConfig,
    environ: Mapping[str, str],
    clock: Clock,
    warn: Callable[[str], None],
    note: Callable[[str], None] = lambda _: None,
    choice: FeedbackChoice | None = None,
    secret_store: Callable[[], SecretStore] | None = None,
) -> FeedbackSession | None:
    """The session for this run, or None when feedback is off or has nowhere to go.

    Off unless enabled or detected: with ``enabled`` unset, feedback runs when the
    CI variables name a platform and a token is found, silently otherwise. Asked for
    explicitly (--feedback, feedback.enabled: true), what is missing is one warning line.
    """
    choice = choice or FeedbackChoice()
    config = loaded.config.feedback
    enabled = choice.enabled if choice.enabled is not None else config.enabled
    if enabled is False:
        return None
    explicit = enabled is True

    def skip(problem: str) -> None:
        if explicit:
            warn(WARNING.format(problem=problem))

    try:
        factory = _factory(config, environ)
    except DeployTagError as e:  # a provider that cannot be loaded: said, never fatal
        warn(WARNING.format(problem=" ".join(str(e).split())))
        return None
    if factory is None:
        skip("no GitHub Actions or GitLab CI variables found (set feedback.provider and the CI variables)")
        return None
    try:
        token = _token(factory, config, environ, secret_store)
    except DeployTagError as e:
        warn(WARNING.format(problem=f"cannot read the token from the secret store: {e}"))
        return None
    if not token:
        skip(f"no token: set {' or '.join(factory.token_keys)}")
        return None
    try:
        provider = factory.from_environment(environ=environ, token=token, config=config, clock=clock)
    except DeployTagError as e:
        skip(scrub(str(e), [token]))
        return None
    return FeedbackSession(
        feedback=provider,
        app=loaded.config.app,
        clock=clock,
        warn=warn,
        note=note,
        commit_status=config.commit_status,
        pull_request=choice.pull_request or config.pull_request,
        secrets=(token,),
    )


def notify_expiring(
    *,
    loaded: LoadedConfig,
    environ: Mapping[str, str],
    clock: Clock,
    warn: Callable[[str], None],
    notices: list[ExpiringNotice],
    secret_store: Callable[[], SecretStore] | None = None,
) -> None:
    """gc's hook: one expiring-soon comment per environment, on the request of its branch (looked up)."""
    session = open_session(loaded=loaded, environ=environ, clock=clock, warn=warn, secret_store=secret_store)
    if session is None:
        return
    session.pull_request = None  # each notice is for its own branch's request
    for notice in notices:
        session.expiring_soon(notice=notice)


def reported_deploy(
    session: FeedbackSession | None,
    *,
    loaded: LoadedConfig,
    ref: BranchRef,
    clock: Clock,
    deploy: Callable[[], DeployReport],
) -> DeployReport:
    """Run ``deploy`` between the deploying comment and the ready (or failed) one."""
    header = _header(loaded, ref)
    if session is None or header is None:
        return deploy()
    started = clock.now()
    session.deploying(header=header, commit=ref.commit, started_at=started)
    report = deploy()
    session.deployed(
        header=header, report=report, started_at=started, database=_database(loaded, ref, report)
    )
    return report


def reported_destroy(
    session: FeedbackSession | None,
    *,
    loaded: LoadedConfig,
    ref: BranchRef,
    destroy: Callable[[], DestroyReport],
) -> DestroyReport:
    """Run ``destroy``, then turn the comment into its receipt."""
    report = destroy()
    header = _header(loaded, ref)
    if session is not None and header is not None:
        session.destroyed(header=header, report=report)
    return report


def _header(loaded: LoadedConfig, ref: BranchRef) -> Header | None:
    """None for a branch no rule deploys: such a run says nothing on its request."""
    try:
        names = target_for(ref, loaded).names
    except DeployTagError:
        return None  # the run itself reports why its names cannot be derived
    if names is None:
        return None
    return Header(app=names.app, branch=ref.branch, environment=names.environment, namespace=names.namespace)


def _database(loaded: LoadedConfig, ref: BranchRef, report: DeployReport) -> str | None:
    ran = any(
        s.get("name") == "database" and s.get("outcome") in ("changed", "unchanged") for s in report.steps
    )
    header = _header(loaded, ref) if ran else None
    if header is None:
        return None
    names = target_for(ref, loaded).names
    if names is None:
        return None
    return f"{names.database} ({loaded.config.database.engine})"


def _factory(config: FeedbackConfig, environ: Mapping[str, str]) -> FeedbackFactory | None:
    if config.provider is not None:
        chosen: FeedbackFactory = load_provider(GROUP, config.provider)
        return chosen
    # DeployTag's own platforms first; other installed ones are scanned for (which costs the import
    # of importlib.metadata) only when none of them recognises this CI. Name a plugin in
    # feedback.provider to prefer it.
    builtin = own(GROUP)
    found = _detecting(sorted(builtin), environ)
    if found is None:
        found = _detecting(sorted(set(available(GROUP)) - set(builtin)), environ)
    return found


def _detecting(names: list[str], environ: Mapping[str, str]) -> FeedbackFactory | None:
    for name in names:
        candidate: FeedbackFactory = load_provider(GROUP, name)
        if candidate.detect(environ=environ):
            return candidate
    return None


def _token(
    factory: FeedbackFactory,
    config: FeedbackConfig,
    environ: Mapping[str, str],
    secret_store: Callable[[], SecretStore] | None,
) -> str | None:
    """The secret store's (``feedback.token_secret_id``) first, then the environment's."""
    if config.token_secret_id and secret_store is not None:
        values = secret_store().fetch(ids=[config.token_secret_id]).values
        for key in factory.token_keys:
            if values.get(key):
                return values[key]
    return next((environ[k] for k in factory.token_keys if environ.get(k)), None)
