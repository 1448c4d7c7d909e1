"""The schema of ``deploytag.yaml``: one pydantic model per section, defaults with units and reasons.

Core sections are declared here; providers' sections are declared beside their
adapters (``adapters/dns/settings.py``, ``adapters/images/settings.py``) and
composed in by inheritance. Loading and precedence are in ``loader``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from deploytag.adapters.dns.settings import DnsProviderSettings
from deploytag.adapters.images.settings import BuilderSettings
from deploytag.adapters.secrets.settings import SecretStoreSettings
from deploytag.core.printable import printable_names
from deploytag.core.settingsmodel import SettingsModel

Severity = Literal["off", "warn", "error"]

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


# Every section's base. Providers' sections are declared on it beside their adapters
# (``adapters/*/settings.py``, pydantic only) and composed below by inheritance: the
# one import from core into adapters that the layers contract allows.
_Model = SettingsModel


class PermanentEnvironment(_Model):
    """A long-lived environment fed by one branch (``main`` -> ``staging``)."""

    environment: str = Field(description="environment name, e.g. staging; selects its values files")
    namespace: str | None = Field(
        default=None,
        description="fixed namespace; default '{app}-{environment}' so it never moves",
    )
    min_replicas: int = Field(
        default=2,
        ge=1,
        description="replicas lint expects per workload: permanent environments must survive a pod loss",
    )


class BranchRules(_Model):
    previews: list[str] = Field(
        default_factory=lambda: ["epic/*", "bug/*", "feature/*"],
        description="glob patterns of branches that get a preview environment (DeployTag's convention)",
    )
    permanent: dict[str, PermanentEnvironment] = Field(
        default_factory=lambda: {"main": PermanentEnvironment(environment="staging")},
        description="branch name -> permanent environment; checked before previews",
    )


class ChartConfig(_Model):
    path: Path = Field(default=Path("chart"), description="chart directory, relative to the repo")
    values: list[Path] = Field(
        default_factory=list, description="values files applied to every environment, in order"
    )
    environments: dict[str, list[Path]] = Field(
        default_factory=dict,
        description="environment name ('preview', 'staging', ...) -> values files applied after the common ones",
    )
    set: dict[str, str] = Field(
        default_factory=dict,
        description="dotted key -> value, applied last (like helm --set); never put secrets here",
    )
    timeout_seconds: int = Field(
        default=300,
        ge=1,
        description="seconds helm waits for the release to become ready; 5 minutes covers image pulls",
    )
    atomic: bool = Field(
        default=False,
        description="roll back to the last good revision (the last one verified ready) when a deploy fails",
    )


class ImageConfig(_Model):
    repository: str = Field(description="registry/repository the image is pushed to")
    dockerfile: Path = Field(default=Path("Dockerfile"), description="app Dockerfile")
    base_dockerfile: Path | None = Field(
        default=Path("Dockerfile.base"),
        description="slow-changing base image; rebuilt only when its content hash changes",
    )
    context: Path = Field(default=Path("."), description="build context directory")
    values_key: str = Field(
        default="image",
        description="values key the image is injected under: <key>.repository, <key>.tag and <key>.digest",
    )
    base_repository: str | None = Field(
        default=None,
        description="repository of the base image; default '<repository>-base'",
    )

    @field_validator("repository")
    @classmethod
    def _names_are_printable(cls, v: Any) -> Any:
        return printable_names(v)


class _BuildOptions(_Model):
    """Options of every builder; the builders' own settings follow (``BuilderSettings``)."""

    enabled: bool = Field(
        default=True,
        description="build and push images on deploy; false uses the commit tags as they are (like --skip-build)",
    )
    builder: Literal["auto", "buildah", "docker", "kaniko"] = Field(
        default="auto",
        description=(
            "image builder: buildah (daemonless, preferred when installed), docker (buildx), or kaniko "
            "(a Job in the cluster; only when chosen)"
        ),
    )
    args: dict[str, str] = Field(
        default_factory=dict,
        description="build arguments for both Dockerfiles; never secrets (they stay in the image history)",
    )
    latest_branch: str | None = Field(
        default="main",
        description="branch whose app image is also tagged 'latest' (the production branch)",
    )
    platform: str | None = Field(default=None, description="target platform, e.g. linux/amd64")
    push: bool = Field(default=True, description="push images; false builds locally only (no digest to pin)")
    registry_auth: Literal["auto", "env", "auth-file", "ecr", "none"] = Field(
        default="auto",
        description=(
            "registry credentials: env (DEPLOYTAG_REGISTRY_USERNAME/PASSWORD), auth-file "
            "(REGISTRY_AUTH_FILE, podman/docker login), ecr (boto3 token); auto tries them in that order"
        ),
    )
    insecure_registries: list[str] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1"],
        description="registry hosts spoken to over plain HTTP (loopback registries)",
    )
    timeout_seconds: int = Field(default=1800, ge=1, description="seconds one build or push may take")


class BuildConfig(BuilderSettings, _BuildOptions):
    """How images are built and pushed (``deploytag build`` and the deploy steps).

    pydantic orders fields base by base from the last base, so the builders'
    settings come after the common options, as keys and docs always listed them.
    """


class TestConfig(_Model):
    command: list[str] | None = Field(
        default=None,
        description="argument list run before deploying; none skips the gate",
    )
    timeout_seconds: int = Field(default=900, ge=1, description="seconds the test command may run")


class _SecretsOptions(_Model):
    """Which store and which ids; the stores' own settings follow (``SecretStoreSettings``)."""

    provider: str = Field(
        default="file",
        description="secret store: 'file' (embedded default, no cloud) or 'aws' (Secrets Manager)",
    )
    ids: list[str] = Field(
        default_factory=list,
        description="store ids merged in order, later wins (e.g. staging/app)",
    )

    @field_validator("provider", "ids")
    @classmethod
    def _names_are_printable(cls, v: Any) -> Any:
        return printable_names(v)


class SecretsConfig(SecretStoreSettings, _SecretsOptions):
    """The store (``provider``, ``ids``), its settings, then how the chart finds the Secret."""

    values_key: str = Field(
        default="envSecretName",
        description="values key that receives the Kubernetes Secret's name for the chart to mount",
    )


class DatabaseVariables(_Model):
    url: str = Field(default="DATABASE_URL", description="variable holding the full connection URL")
    host: str = Field(default="DATABASE_HOST", description="variable holding the host")
    port: str = Field(default="DATABASE_PORT", description="variable holding the port")
    name: str = Field(default="DATABASE_NAME", description="variable holding the database name")
    user: str = Field(default="DATABASE_USER", description="variable holding the user (role)")
    password: str = Field(default="DATABASE_PASSWORD", description="variable holding the password")


class DatabaseConfig(_Model):
    engine: Literal["postgres", "mysql"] | None = Field(
        default=None, description="branch database engine; none means the app has no database"
    )
    environments: list[str] = Field(
        default_factory=lambda: ["preview"],
        description="environments that get a database: 'preview' for every preview, or a permanent "
        "environment's name (permanent environments opt in)",
    )
    admin_url_env: str = Field(
        default="DEPLOYTAG_DATABASE_ADMIN_URL",
        description="environment variable holding the admin connection URL "
        "(postgresql://user:pw@host:5432/postgres or mysql://user:pw@host:3306/); never a flag",
    )
    admin_secret_id: str | None = Field(
        default=None,
        description="instead of admin_url_env: a secret store id whose key admin_secret_key holds the admin URL",
    )
    admin_secret_key: str = Field(
        default="DATABASE_ADMIN_URL", description="key of the admin URL in that secret"
    )
    app_host: str | None = Field(
        default=None, description="host the app connects to when it differs from the admin URL's host"
    )
    app_port: int | None = Field(
        default=None, description="port the app connects to; default the admin URL's"
    )
    variables: DatabaseVariables = Field(
        default_factory=DatabaseVariables,
        description="names of the variables put into the environment's Secret",
    )
    template: str | None = Field(
        default=None,
        description="postgres: create the database from this template database (first time only)",
    )
    seed: list[str] | None = Field(
        default=None,
        description="command run locally once, right after the database is created (argument list)",
    )
    migrate: list[str] | None = Field(default=None, description="migration command (argument list)")
    migrate_mode: Literal["job", "local"] = Field(
        default="job",
        description="'job': a Kubernetes Job in the environment's namespace with the new image and the "
        "environment's Secret; 'local': run here (CI, the app repository as working directory) with the "
        "connection variables set. Either way before the release is upgraded",
    )
    migrate_image: str | None = Field(
        default=None, description="job mode: which images: entry runs the migration; default the first"
    )
    migrate_timeout_seconds: int = Field(
        default=600, gt=0, description="seconds a migration may take before the deploy stops"
    )
    password_length: int = Field(default=32, ge=16, le=64, description="characters in generated passwords")


class DnsTargetConfig(_Model):
    source: Literal["auto", "ingress-controller", "service"] = Field(
        default="auto",
        description="where the address comes from: 'service' a LoadBalancer Service in the environment's "
        "namespace, 'ingress-controller' the shared controller's Service, 'auto' the first if there is one",
    )
    namespace: str = Field(default="ingress-nginx", description="ingress-controller: its namespace")
    service: str | None = Field(
        default=None,
        description="the Service to read; default ingress-nginx-controller (ingress-controller) or the "
        "environment's first LoadBalancer Service (service)",
    )
    address: str | None = Field(
        default=None, description="a fixed hostname or IP instead of discovery (e.g. an existing ALB)"
    )
    wait_seconds: int = Field(
        default=300, ge=0, description="how long to wait for the load balancer to get an address"
    )

    @field_validator("address")
    @classmethod
    def _names_are_printable(cls, v: Any) -> Any:
        return printable_names(v)


class DnsTlsConfig(_Model):
    cluster_issuer: str | None = Field(
        default=None,
        description="cert-manager ClusterIssuer: sets the cert-manager.io/cluster-issuer annotation",
    )
    secret_name: str | None = Field(
        default=None, description="existing (wildcard) TLS Secret in the namespace, used for every host"
    )


class _DnsOptions(_Model):
    provider: str | None = Field(
        default=None,
        description="DNS provider: cloudflare, route53, rfc2136 or powerdns; none (or 'none'): no DNS step",
    )
    zone: str | None = Field(default=None, description="zone the records are created in, e.g. example.com")
    zone_id: str | None = Field(default=None, description="provider's zone id (Cloudflare zone id)")
    records: list[str] = Field(
        default_factory=list,
        description="record name templates, e.g. '{.Branch}-guest-server-frontend-aws'",
    )
    ttl: int = Field(default=300, ge=1, description="record TTL in seconds (Cloudflare: 1 means automatic)")
    proxied: bool = Field(default=False, description="cloudflare: route traffic through Cloudflare's proxy")
    target: DnsTargetConfig = Field(default_factory=DnsTargetConfig)
    tls: DnsTlsConfig = Field(default_factory=DnsTlsConfig)

    @field_validator("provider", mode="before")
    @classmethod
    def _none_turns_dns_off(cls, v: Any) -> Any:
        # DEPLOYTAG_DNS__PROVIDER=none switches DNS off for a run (e.g. a cluster without a DNS zone).
        return None if v in ("", "none") else v

    @field_validator("provider", "zone", "zone_id", "records")
    @classmethod
    def _names_are_printable(cls, v: Any) -> Any:
        return printable_names(v)


class DnsConfig(DnsProviderSettings, _DnsOptions):
    """DNS records per environment; each provider's section (``DnsProviderSettings``) comes last."""


class QuotaConfig(_Model):
    enabled: bool = Field(default=True, description="create a ResourceQuota and LimitRange per environment")
    hard: dict[str, str] = Field(
        default_factory=lambda: {
            "requests.cpu": "2",
            "requests.memory": "4Gi",
            "limits.cpu": "4",
            "limits.memory": "8Gi",
            "pods": "30",
        },
        description="ResourceQuota hard limits; sized so one preview cannot starve a shared cluster",
    )
    default_limits: dict[str, str] = Field(
        default_factory=lambda: {"cpu": "500m", "memory": "512Mi"},
        description="LimitRange default limits for containers that set none",
    )
    default_requests: dict[str, str] = Field(
        default_factory=lambda: {"cpu": "50m", "memory": "64Mi"},
        description="LimitRange default requests for containers that set none",
    )


class ClusterConfig(_Model):
    provider: str = Field(
        default="kubernetes", description="'kubernetes' (real API) or 'memory' (in-process fake)"
    )
    kubeconfig: str | None = Field(
        default=None, description="kubeconfig path; default $KUBECONFIG or ~/.kube/config"
    )
    context: str | None = Field(default=None, description="kubeconfig context; default the current one")
    lock_namespace: str = Field(
        default="default",
        description="namespace holding the per-environment Leases; 'default' always exists",
    )
    lock_seconds: int = Field(
        default=15,
        ge=5,
        description="lease duration in seconds, renewed every third of it while a run works; a killed "
        "run's environment is free again within this. 15: short enough that CI retrying after a "
        "crash barely waits, long enough (three renewals) that a slow API call does not lose the lease",
    )
    lock_wait_seconds: int = Field(
        default=600,
        ge=0,
        description="how long a second run of the same branch waits for the first",
    )
    verify_stable_seconds: int = Field(
        default=5,
        ge=0,
        description="seconds verify keeps watching pods that have a container without a readiness "
        "probe after the rollout reports ready; a restart in that time fails the deploy. Such a "
        "container is Ready the moment it starts, so a crash-looping one looks ready between "
        "crashes. 5: a container that dies of its configuration at start-up dies within it, and "
        "pods whose containers all have readiness probes are not watched at all (0 turns it off)",
    )
    quota: QuotaConfig = Field(default_factory=QuotaConfig)

    @field_validator("provider", "context")
    @classmethod
    def _names_are_printable(cls, v: Any) -> Any:
        return printable_names(v)


class LimitsConfig(_Model):
    """Caps on previews; permanent environments (branches.permanent) never count."""

    max_previews: int | None = Field(
        default=None,
        ge=1,
        description="previews of this app at once (count); a new one beyond it is refused before any side "
        "effect, so forgotten previews cannot fill the cluster (null: no limit)",
    )
    max_previews_per_author: int | None = Field(
        default=None,
        ge=1,
        description="previews one author (GITLAB_USER_LOGIN, GITHUB_ACTOR, else the commit's e-mail) "
        "may have at once (count), so one person cannot use up max_previews (null: no limit)",
    )


# Google Compute Engine N2, us-central1, on-demand: 0.031611 USD per vCPU-hour and 0.004237 USD per
# GiB-hour, x 730 hours a month. A common general-purpose cloud price, so the estimate is of the right
# size out of the box; set your own (reserved, spot, another cloud or currency) in deploytag.yaml.
_CPU_MONTH = 23.08
_GIB_MONTH = 3.09


class CostConfig(_Model):
    cpu_per_month: float = Field(
        default=_CPU_MONTH,
        ge=0,
        description="price per vCPU requested for a month of 730 h, in cost.currency; default: Google "
        "Compute Engine N2 on-demand in us-central1, 0.031611 USD/vCPU-hour x 730, a common cloud price",
    )
    gib_per_month: float = Field(
        default=_GIB_MONTH,
        ge=0,
        description="price per GiB of memory requested for a month of 730 h, in cost.currency; default: "
        "Google Compute Engine N2 on-demand in us-central1, 0.004237 USD/GiB-hour x 730",
    )
    currency: str = Field(
        default="USD", min_length=1, description="currency the prices are in, shown with them"
    )


class ToolsConfig(_Model):
    helm: str = Field(
        default="helm",
        description="helm binary (Helm 3 or 4): a name looked up on PATH, or a path",
    )


class LintConfig(_Model):
    severity: dict[str, Severity] = Field(
        default_factory=dict,
        description="rule id -> off/warn/error; rules not named use their default (warn)",
    )

    @field_validator("severity", mode="before")
    @classmethod
    def _yaml_off_is_false(cls, v: Any) -> Any:
        # YAML 1.1 reads a bare `off` as false; people write it unquoted.
        if isinstance(v, dict):
            return {k: "off" if val is False else val for k, val in v.items()}
        return v


class GcConfig(_Model):
    """What `deploytag gc` removes and when (it never removes a permanent environment)."""

    remote: str = Field(
        default="origin",
        description="git remote whose branches are alive (`git ls-remote --heads`); a preview whose branch "
        "is gone from it is removed",
    )
    check_changes: bool = Field(
        default=True,
        description="also remove a preview whose pull/merge request was closed or merged, when a token is "
        "set (GITHUB_TOKEN/GH_TOKEN, GITLAB_TOKEN or CI_JOB_TOKEN)",
    )
    parallel: int = Field(
        default=4,
        ge=1,
        le=32,
        description="environments removed at once; each waits mostly on the API server and helm, so a few "
        "overlap well without crowding the cluster",
    )
    warn_hours: float | None = Field(
        default=None,
        gt=0,
        description="hours before its TTL ends that a preview is marked expiring (annotation "
        "deploytag.dev/expiring) so PR feedback can warn; none: not marked",
    )
    sleep_after_hours: float | None = Field(
        default=None,
        gt=0,
        description="hours since the last deploy after which gc puts a preview to sleep; none: never",
    )

    @field_validator("remote")
    @classmethod
    def _names_are_printable(cls, v: Any) -> Any:
        return printable_names(v)


class FeedbackConfig(_Model):
    """Pull/merge request feedback (docs/feedback.md): one comment edited in place and a commit status."""

    enabled: bool | None = Field(
        default=None,
        description="post feedback; default (unset): in GitHub Actions (GITHUB_ACTIONS=true) or GitLab CI "
        "(GITLAB_CI=true) when a token is found",
    )
    provider: Literal["github", "gitlab"] | None = Field(
        default=None,
        description="platform; default: the CI's (GITHUB_ACTIONS / GITLAB_CI); set it to post from elsewhere",
    )
    pull_request: int | None = Field(
        default=None,
        ge=1,
        description="pull/merge request number; default: the CI event's, else looked up by branch",
    )
    token_secret_id: str | None = Field(
        default=None,
        description="secret store id holding the token (GITHUB_TOKEN / GITLAB_TOKEN key); "
        "default: the environment only. Kept apart from secrets.ids, which reach the app",
    )
    commit_status: bool = Field(
        default=True, description="also set the commit status 'deploytag/<app>' with the URL"
    )
    timeout_seconds: float = Field(default=10, gt=0, description="seconds per API call")
    retry_wait_seconds: float = Field(
        default=10,
        ge=0,
        description="longest Retry-After honoured before the one retry; longer waits give up (a warning)",
    )


class Config(_Model):
    app: str = Field(description="application name: a DNS label, prefixes every derived name")
    branches: BranchRules = Field(default_factory=BranchRules)
    chart: ChartConfig = Field(default_factory=ChartConfig)
    images: dict[str, ImageConfig] = Field(
        default_factory=dict, description="image name -> how it is built and where it is pushed"
    )
    build: BuildConfig = Field(default_factory=BuildConfig)
    test: TestConfig = Field(default_factory=TestConfig)
    secrets: SecretsConfig = Field(default_factory=SecretsConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    dns: DnsConfig = Field(default_factory=DnsConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    lint: LintConfig = Field(default_factory=LintConfig)
    tools: ToolsConfig = Field(default_factory=ToolsConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    cost: CostConfig = Field(default_factory=CostConfig)
    feedback: FeedbackConfig = Field(default_factory=FeedbackConfig)
    gc: GcConfig = Field(default_factory=GcConfig)
    ttl_hours: float | None = Field(
        default=168,
        gt=0,
        description="hours after its last deploy (or failed run) that gc removes a preview, unless pinned; a "
        "week spans a review cycle with a weekend in it; null: never by age",
    )

    @field_validator("app")
    @classmethod
    def _app_is_label(cls, v: str) -> str:
        if len(v) > 30 or not _DNS_LABEL.match(v) or "--" in v:
            raise ValueError("must be a lowercase DNS label of at most 30 characters (a-z, 0-9, single '-')")
        return v
