"""The schema of ``deploytag.yaml``: one msgspec Struct per section, defaults with units and reasons.

Core sections are declared here; providers' sections are declared beside their
adapters (``adapters/dns/settings.py``, ``adapters/images/settings.py``) on top of the
common options of their section (``core.sections``) and completed here by inheritance.
A field's constraint and description are its ``Meta``; a model's own checks are its
``__post_init__``. Loading and precedence are in ``loader``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from msgspec import Meta, field

from deploytag.adapters.dns.settings import DnsProviderSettings
from deploytag.adapters.images.settings import BuilderSettings
from deploytag.adapters.secrets.settings import SecretStoreSettings
from deploytag.core.sections import DnsTargetConfig, DnsTlsConfig
from deploytag.core.settingsmodel import FieldError, SettingsModel, require_printable

Severity = Literal["off", "warn", "error"]

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


# Every section's base. Providers' sections are declared on it beside their adapters
# (``adapters/*/settings.py``, msgspec only) and composed below by inheritance: the
# one import from core into adapters that the layers contract allows.
_Model = SettingsModel

# Re-exported: core.config's callers import every section from here.
__all__ = ["DnsTargetConfig", "DnsTlsConfig"]


class PermanentEnvironment(_Model):
    """A long-lived environment fed by one branch (``main`` -> ``staging``)."""

    environment: Annotated[str, Meta(description="environment name, e.g. staging; selects its values files")]
    namespace: Annotated[
        str | None, Meta(description="fixed namespace; default '{app}-{environment}' so it never moves")
    ] = None
    min_replicas: Annotated[
        int,
        Meta(
            ge=1,
            description="replicas lint expects per workload: permanent environments must survive a pod loss",
        ),
    ] = 2


class BranchRules(_Model):
    previews: Annotated[
        list[str],
        Meta(description="glob patterns of branches that get a preview environment (DeployTag's convention)"),
    ] = field(default_factory=lambda: ["epic/*", "bug/*", "feature/*"])
    permanent: Annotated[
        dict[str, PermanentEnvironment],
        Meta(description="branch name -> permanent environment; checked before previews"),
    ] = field(default_factory=lambda: {"main": PermanentEnvironment(environment="staging")})


class ChartConfig(_Model):
    path: Annotated[Path, Meta(description="chart directory, relative to the repo")] = Path("chart")
    values: Annotated[list[Path], Meta(description="values files applied to every environment, in order")] = (
        field(default_factory=list)
    )
    environments: Annotated[
        dict[str, list[Path]],
        Meta(
            description="environment name ('preview', 'staging', ...) -> values files applied after the common ones"
        ),
    ] = field(default_factory=dict)
    set: Annotated[
        dict[str, str],
        Meta(description="dotted key -> value, applied last (like helm --set); never put secrets here"),
    ] = field(default_factory=dict)
    timeout_seconds: Annotated[
        int,
        Meta(
            ge=1,
            description="seconds helm waits for the release to become ready; 5 minutes covers image pulls",
        ),
    ] = 300
    atomic: Annotated[
        bool,
        Meta(
            description="roll back to the last good revision (the last one verified ready) when a deploy fails"
        ),
    ] = False


class ImageConfig(_Model):
    repository: Annotated[str, Meta(description="registry/repository the image is pushed to")]
    dockerfile: Annotated[Path, Meta(description="app Dockerfile")] = Path("Dockerfile")
    base_dockerfile: Annotated[
        Path | None, Meta(description="slow-changing base image; rebuilt only when its content hash changes")
    ] = Path("Dockerfile.base")
    context: Annotated[Path, Meta(description="build context directory")] = Path(".")
    values_key: Annotated[
        str,
        Meta(
            description="values key the image is injected under: <key>.repository, <key>.tag and <key>.digest"
        ),
    ] = "image"
    base_repository: Annotated[
        str | None, Meta(description="repository of the base image; default '<repository>-base'")
    ] = None

    def __post_init__(self) -> None:
        require_printable(self, "repository")


class BuildConfig(BuilderSettings):
    """How images are built and pushed (``deploytag build`` and the deploy steps).

    The common options (``core.sections.BuildOptions``) come first, then the builders'
    settings (``BuilderSettings``), as keys and docs always listed them.
    """


class TestConfig(_Model):
    command: Annotated[
        list[str] | None, Meta(description="argument list run before deploying; none skips the gate")
    ] = None
    timeout_seconds: Annotated[int, Meta(ge=1, description="seconds the test command may run")] = 900


class SecretsConfig(SecretStoreSettings):
    """The store (``provider``, ``ids``), its settings, then how the chart finds the Secret."""

    values_key: Annotated[
        str, Meta(description="values key that receives the Kubernetes Secret's name for the chart to mount")
    ] = "envSecretName"


class DatabaseVariables(_Model):
    url: Annotated[str, Meta(description="variable holding the full connection URL")] = "DATABASE_URL"
    host: Annotated[str, Meta(description="variable holding the host")] = "DATABASE_HOST"
    port: Annotated[str, Meta(description="variable holding the port")] = "DATABASE_PORT"
    name: Annotated[str, Meta(description="variable holding the database name")] = "DATABASE_NAME"
    user: Annotated[str, Meta(description="variable holding the user (role)")] = "DATABASE_USER"
    password: Annotated[str, Meta(description="variable holding the password")] = "DATABASE_PASSWORD"  # noqa: S105 - a variable's name


class DatabaseConfig(_Model):
    engine: Annotated[
        Literal["postgres", "mysql"] | None,
        Meta(description="branch database engine; none means the app has no database"),
    ] = None
    environments: Annotated[
        list[str],
        Meta(
            description="environments that get a database: 'preview' for every preview, or a permanent "
            "environment's name (permanent environments opt in)"
        ),
    ] = field(default_factory=lambda: ["preview"])
    admin_url_env: Annotated[
        str,
        Meta(
            description="environment variable holding the admin connection URL "
            "(postgresql://user:pw@host:5432/postgres or mysql://user:pw@host:3306/); never a flag"
        ),
    ] = "DEPLOYTAG_DATABASE_ADMIN_URL"
    admin_secret_id: Annotated[
        str | None,
        Meta(
            description="instead of admin_url_env: a secret store id whose key admin_secret_key holds the admin URL"
        ),
    ] = None
    admin_secret_key: Annotated[str, Meta(description="key of the admin URL in that secret")] = (
        "DATABASE_ADMIN_URL"  # noqa: S105 - a key's name
    )
    app_host: Annotated[
        str | None, Meta(description="host the app connects to when it differs from the admin URL's host")
    ] = None
    app_port: Annotated[int | None, Meta(description="port the app connects to; default the admin URL's")] = (
        None
    )
    variables: Annotated[
        DatabaseVariables, Meta(description="names of the variables put into the environment's Secret")
    ] = field(default_factory=DatabaseVariables)
    template: Annotated[
        str | None,
        Meta(description="postgres: create the database from this template database (first time only)"),
    ] = None
    seed: Annotated[
        list[str] | None,
        Meta(description="command run locally once, right after the database is created (argument list)"),
    ] = None
    migrate: Annotated[list[str] | None, Meta(description="migration command (argument list)")] = None
    migrate_mode: Annotated[
        Literal["job", "local"],
        Meta(
            description="'job': a Kubernetes Job in the environment's namespace with the new image and the "
            "environment's Secret; 'local': run here (CI, the app repository as working directory) with the "
            "connection variables set. Either way before the release is upgraded"
        ),
    ] = "job"
    migrate_image: Annotated[
        str | None, Meta(description="job mode: which images: entry runs the migration; default the first")
    ] = None
    migrate_timeout_seconds: Annotated[
        int, Meta(gt=0, description="seconds a migration may take before the deploy stops")
    ] = 600
    password_length: Annotated[int, Meta(ge=16, le=64, description="characters in generated passwords")] = 32


class DnsConfig(DnsProviderSettings):
    """DNS records per environment (``core.sections.DnsOptions``); each provider's section comes last."""


class QuotaConfig(_Model):
    enabled: Annotated[bool, Meta(description="create a ResourceQuota and LimitRange per environment")] = True
    hard: Annotated[
        dict[str, str],
        Meta(description="ResourceQuota hard limits; sized so one preview cannot starve a shared cluster"),
    ] = field(
        default_factory=lambda: {
            "requests.cpu": "2",
            "requests.memory": "4Gi",
            "limits.cpu": "4",
            "limits.memory": "8Gi",
            "pods": "30",
        }
    )
    default_limits: Annotated[
        dict[str, str], Meta(description="LimitRange default limits for containers that set none")
    ] = field(default_factory=lambda: {"cpu": "500m", "memory": "512Mi"})
    default_requests: Annotated[
        dict[str, str], Meta(description="LimitRange default requests for containers that set none")
    ] = field(default_factory=lambda: {"cpu": "50m", "memory": "64Mi"})


class ClusterConfig(_Model):
    provider: Annotated[str, Meta(description="'kubernetes' (real API) or 'memory' (in-process fake)")] = (
        "kubernetes"
    )
    kubeconfig: Annotated[
        str | None, Meta(description="kubeconfig path; default $KUBECONFIG or ~/.kube/config")
    ] = None
    context: Annotated[str | None, Meta(description="kubeconfig context; default the current one")] = None
    lock_namespace: Annotated[
        str, Meta(description="namespace holding the per-environment Leases; 'default' always exists")
    ] = "default"
    lock_seconds: Annotated[
        int,
        Meta(
            ge=5,
            description="lease duration in seconds, renewed every third of it while a run works; a killed "
            "run's environment is free again within this. 15: short enough that CI retrying after a "
            "crash barely waits, long enough (three renewals) that a slow API call does not lose the lease",
        ),
    ] = 15
    lock_wait_seconds: Annotated[
        int, Meta(ge=0, description="how long a second run of the same branch waits for the first")
    ] = 600
    verify_stable_seconds: Annotated[
        int,
        Meta(
            ge=0,
            description="seconds verify keeps watching pods that have a container without a readiness "
            "probe after the rollout reports ready; a restart in that time fails the deploy. Such a "
            "container is Ready the moment it starts, so a crash-looping one looks ready between "
            "crashes. 5: a container that dies of its configuration at start-up dies within it, and "
            "pods whose containers all have readiness probes are not watched at all (0 turns it off)",
        ),
    ] = 5
    quota: QuotaConfig = field(default_factory=QuotaConfig)

    def __post_init__(self) -> None:
        require_printable(self, "provider", "context")


class LimitsConfig(_Model):
    """Caps on previews; permanent environments (branches.permanent) never count."""

    max_previews: (
        Annotated[
            int,
            Meta(
                ge=1,
                description="previews of this app at once (count); a new one beyond it is refused before any side "
                "effect, so forgotten previews cannot fill the cluster (null: no limit)",
            ),
        ]
        | None
    ) = None
    max_previews_per_author: (
        Annotated[
            int,
            Meta(
                ge=1,
                description="previews one author (GITLAB_USER_LOGIN, GITHUB_ACTOR, else the commit's e-mail) "
                "may have at once (count), so one person cannot use up max_previews (null: no limit)",
            ),
        ]
        | None
    ) = None


# Google Compute Engine N2, us-central1, on-demand: 0.031611 USD per vCPU-hour and 0.004237 USD per
# GiB-hour, x 730 hours a month. A common general-purpose cloud price, so the estimate is of the right
# size out of the box; set your own (reserved, spot, another cloud or currency) in deploytag.yaml.
_CPU_MONTH = 23.08
_GIB_MONTH = 3.09


class CostConfig(_Model):
    cpu_per_month: Annotated[
        float,
        Meta(
            ge=0,
            description="price per vCPU requested for a month of 730 h, in cost.currency; default: Google "
            "Compute Engine N2 on-demand in us-central1, 0.031611 USD/vCPU-hour x 730, a common cloud price",
        ),
    ] = _CPU_MONTH
    gib_per_month: Annotated[
        float,
        Meta(
            ge=0,
            description="price per GiB of memory requested for a month of 730 h, in cost.currency; default: "
            "Google Compute Engine N2 on-demand in us-central1, 0.004237 USD/GiB-hour x 730",
        ),
    ] = _GIB_MONTH
    currency: Annotated[
        str, Meta(min_length=1, description="currency the prices are in, shown with them")
    ] = "USD"


class ToolsConfig(_Model):
    helm: Annotated[
        str, Meta(description="helm binary (Helm 3 or 4): a name looked up on PATH, or a path")
    ] = "helm"


class LintConfig(_Model):
    severity: Annotated[
        dict[str, Severity],
        Meta(description="rule id -> off/warn/error; rules not named use their default (warn)"),
    ] = field(default_factory=dict)


class GcConfig(_Model):
    """What `deploytag gc` removes and when (it never removes a permanent environment)."""

    remote: Annotated[
        str,
        Meta(
            description="git remote whose branches are alive (`git ls-remote --heads`); a preview whose branch "
            "is gone from it is removed"
        ),
    ] = "origin"
    check_changes: Annotated[
        bool,
        Meta(
            description="also remove a preview whose pull/merge request was closed or merged, when a token is "
            "set (GITHUB_TOKEN/GH_TOKEN, GITLAB_TOKEN or CI_JOB_TOKEN)"
        ),
    ] = True
    parallel: Annotated[
        int,
        Meta(
            ge=1,
            le=32,
            description="environments removed at once; each waits mostly on the API server and helm, so a few "
            "overlap well without crowding the cluster",
        ),
    ] = 4
    warn_hours: (
        Annotated[
            float,
            Meta(
                gt=0,
                description="hours before its TTL ends that a preview is marked expiring (annotation "
                "deploytag.dev/expiring) so PR feedback can warn; none: not marked",
            ),
        ]
        | None
    ) = None
    sleep_after_hours: (
        Annotated[
            float,
            Meta(
                gt=0,
                description="hours since the last deploy after which gc puts a preview to sleep; none: never",
            ),
        ]
        | None
    ) = None

    def __post_init__(self) -> None:
        require_printable(self, "remote")


class FeedbackConfig(_Model):
    """Pull/merge request feedback (docs/feedback.md): one comment edited in place and a commit status."""

    enabled: Annotated[
        bool | None,
        Meta(
            description="post feedback; default (unset): in GitHub Actions (GITHUB_ACTIONS=true) or GitLab CI "
            "(GITLAB_CI=true) when a token is found"
        ),
    ] = None
    provider: Annotated[
        Literal["github", "gitlab"] | None,
        Meta(
            description="platform; default: the CI's (GITHUB_ACTIONS / GITLAB_CI); set it to post from elsewhere"
        ),
    ] = None
    pull_request: (
        Annotated[
            int,
            Meta(
                ge=1,
                description="pull/merge request number; default: the CI event's, else looked up by branch",
            ),
        ]
        | None
    ) = None
    token_secret_id: Annotated[
        str | None,
        Meta(
            description="secret store id holding the token (GITHUB_TOKEN / GITLAB_TOKEN key); "
            "default: the environment only. Kept apart from secrets.ids, which reach the app"
        ),
    ] = None
    commit_status: Annotated[
        bool, Meta(description="also set the commit status 'deploytag/<app>' with the URL")
    ] = True
    timeout_seconds: Annotated[float, Meta(gt=0, description="seconds per API call")] = 10.0
    retry_wait_seconds: Annotated[
        float,
        Meta(
            ge=0,
            description="longest Retry-After honoured before the one retry; longer waits give up (a warning)",
        ),
    ] = 10.0


class Config(_Model):
    app: Annotated[str, Meta(description="application name: a DNS label, prefixes every derived name")]
    branches: BranchRules = field(default_factory=BranchRules)
    chart: ChartConfig = field(default_factory=ChartConfig)
    images: Annotated[
        dict[str, ImageConfig], Meta(description="image name -> how it is built and where it is pushed")
    ] = field(default_factory=dict)
    build: BuildConfig = field(default_factory=BuildConfig)
    test: TestConfig = field(default_factory=TestConfig)
    secrets: SecretsConfig = field(default_factory=SecretsConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    dns: DnsConfig = field(default_factory=DnsConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    lint: LintConfig = field(default_factory=LintConfig)
    tools: ToolsConfig = field(default_factory=ToolsConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    cost: CostConfig = field(default_factory=CostConfig)
    feedback: FeedbackConfig = field(default_factory=FeedbackConfig)
    gc: GcConfig = field(default_factory=GcConfig)
    ttl_hours: (
        Annotated[
            float,
            Meta(
                gt=0,
                description="hours after its last deploy (or failed run) that gc removes a preview, unless pinned; a "
                "week spans a review cycle with a weekend in it; null: never by age",
            ),
        ]
        | None
    ) = 168.0

    def __post_init__(self) -> None:
        app = self.app
        if len(app) > 30 or not _DNS_LABEL.match(app) or "--" in app:
            raise FieldError(
                "app", "must be a lowercase DNS label of at most 30 characters (a-z, 0-9, single '-')"
            )
