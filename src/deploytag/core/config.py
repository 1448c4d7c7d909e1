"""DeployTag's configuration: the app repository's ``deploytag.yaml``.

One loader (``load_config``) with written precedence, highest first:

1. command-line flags (passed in as dotted keys, e.g. ``{"secrets.provider": "aws"}``)
2. ``DEPLOYTAG_*`` environment variables; ``__`` separates nesting levels, so
   ``DEPLOYTAG_CHART__TIMEOUT_SECONDS=600`` sets ``chart.timeout_seconds``; a list
   is comma-separated (``DEPLOYTAG_SECRETS__IDS=staging/app,staging/extra``)
3. ``deploytag.yaml`` in the app repository
4. the defaults below, each documented with its unit and why it is what it is

Every field records where its value came from; ``deploytag config --explain``
prints that.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from deploytag.core import yamlio
from deploytag.core.errors import ConfigError
from deploytag.core.printable import printable_names

CONFIG_FILE = "deploytag.yaml"
ENV_PREFIX = "DEPLOYTAG_"

Severity = Literal["off", "warn", "error"]

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


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


class KanikoConfig(_Model):
    """The kaniko builder: a Kubernetes Job that builds from git and pushes in one step."""

    image: str = Field(default="gcr.io/kaniko-project/executor:v1.23.2", description="kaniko executor image")
    namespace: str | None = Field(
        default=None, description="namespace the build Jobs run in; default cluster.lock_namespace"
    )
    context: Literal["git", "s3"] = Field(
        default="git",
        description=(
            "build context kaniko reads: git (the remote URL at the checked-out commit) or s3 (a tar.gz "
            "of the context after .dockerignore, uploaded to s3_bucket)"
        ),
    )
    s3_bucket: str | None = Field(default=None, description="bucket for s3 contexts (context: s3)")
    s3_prefix: str = Field(
        default="deploytag/contexts", description="key prefix of s3 contexts; keys are content hashes"
    )
    git_url: str | None = Field(
        default=None, description="repository URL kaniko clones; default the 'origin' remote"
    )
    git_ref: str | None = Field(
        default=None,
        description="ref kaniko fetches the commit from, e.g. refs/heads/main; default the checked-out branch",
    )


class BuildConfig(_Model):
    """How images are built and pushed (``deploytag build`` and the deploy steps)."""

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
    buildah_root: Path | None = Field(
        default=None, description="buildah storage root (--root); default buildah's"
    )
    buildah_runroot: Path | None = Field(default=None, description="buildah run root (--runroot)")
    storage_driver: str | None = Field(
        default=None, description="buildah storage driver, e.g. vfs or overlay"
    )
    isolation: str = Field(
        default="chroot", description="buildah RUN isolation: chroot works inside containers"
    )
    kaniko: KanikoConfig = Field(default_factory=KanikoConfig, description="the kaniko builder")


class TestConfig(_Model):
    command: list[str] | None = Field(
        default=None,
        description="argument list run before deploying; none skips the gate",
    )
    timeout_seconds: int = Field(default=900, ge=1, description="seconds the test command may run")


class SecretsConfig(_Model):
    provider: str = Field(
        default="file",
        description="secret store: 'file' (embedded default, no cloud) or 'aws' (Secrets Manager)",
    )
    ids: list[str] = Field(
        default_factory=list,
        description="store ids merged in order, later wins (e.g. staging/app)",
    )
    file: Path = Field(
        default=Path("secrets.local.yaml"),
        description="file provider: YAML mapping id -> {KEY: value}, relative to the repo",
    )
    region: str | None = Field(default=None, description="aws provider: region; default from AWS config")
    endpoint_url: str | None = Field(
        default=None,
        description="aws provider: endpoint override (tests, LocalStack, VPC endpoints)",
    )
    values_key: str = Field(
        default="envSecretName",
        description="values key that receives the Kubernetes Secret's name for the chart to mount",
    )

    @field_validator("provider", "ids")
    @classmethod
    def _names_are_printable(cls, v: Any) -> Any:
        return printable_names(v)


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


class Rfc2136Config(_Model):
    server: str = Field(default="127.0.0.1", description="primary name server taking dynamic updates")
    port: int = Field(default=53, ge=1, le=65535, description="its port")
    key_name: str | None = Field(default=None, description="TSIG key name; its secret is DNS_TSIG_SECRET")
    key_algorithm: str = Field(default="hmac-sha256", description="TSIG algorithm")
    timeout_seconds: float = Field(default=10, gt=0, description="seconds per query or update")


class Route53Config(_Model):
    hosted_zone_id: str | None = Field(default=None, description="hosted zone id; default: looked up by zone")
    endpoint_url: str | None = Field(default=None, description="endpoint override (tests: moto_server)")
    region: str | None = Field(default=None, description="region; default from AWS config")


class CloudflareConfig(_Model):
    base_url: str | None = Field(default=None, description="API base URL override (tests: a local double)")
    timeout_seconds: float = Field(default=30, gt=0, description="seconds per API call")


class PowerDnsConfig(_Model):
    url: str = Field(default="http://127.0.0.1:8081", description="PowerDNS API URL; the key is PDNS_API_KEY")
    server_id: str = Field(default="localhost", description="PowerDNS server id")
    timeout_seconds: float = Field(default=10, gt=0, description="seconds per API call")


class DnsConfig(_Model):
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
    rfc2136: Rfc2136Config = Field(default_factory=Rfc2136Config)
    route53: Route53Config = Field(default_factory=Route53Config)
    cloudflare: CloudflareConfig = Field(default_factory=CloudflareConfig)
    powerdns: PowerDnsConfig = Field(default_factory=PowerDnsConfig)

    @field_validator("provider", mode="before")
    @classmethod
    def _none_turns_dns_off(cls, v: Any) -> Any:
        # DEPLOYTAG_DNS__PROVIDER=none switches DNS off for a run (e.g. a cluster without a DNS zone).
        return None if v in ("", "none") else v

    @field_validator("provider", "zone", "zone_id", "records")
    @classmethod
    def _names_are_printable(cls, v: Any) -> Any:
        return printable_names(v)


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
    quota: QuotaConfig = Field(default_factory=QuotaConfig)

    @field_validator("provider", "context")
    @classmethod
    def _names_are_printable(cls, v: Any) -> Any:
        return printable_names(v)


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
    ttl_hours: float | None = Field(
        default=168,
        gt=0,
        description="hours after the last deploy a preview may be removed by gc; a week spans a review cycle",
    )

    @field_validator("app")
    @classmethod
    def _app_is_label(cls, v: str) -> str:
        if len(v) > 30 or not _DNS_LABEL.match(v) or "--" in v:
            raise ValueError("must be a lowercase DNS label of at most 30 characters (a-z, 0-9, single '-')")
        return v


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class LoadedConfig:
    """The effective configuration and where each leaf value came from."""

    config: Config
    root: Path  # the app repository (directory holding deploytag.yaml)
    file: Path | None
    sources: Mapping[str, str] = field(default_factory=dict)  # dotted key -> source

    def resolve(self, path: Path) -> Path:
        """A path from the configuration, relative to the app repository."""
        return path if path.is_absolute() else self.root / path


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}", hint="check the path and permissions") from e
    try:
        data = yamlio.load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(e, "problem", None) or "invalid YAML"
        raise ConfigError(f"{where}: {problem}", hint="fix the YAML syntax") from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping", hint="start with 'app: <name>'")
    return data


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = target
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def _env_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    """``DEPLOYTAG_CHART__TIMEOUT_SECONDS`` -> ``chart.timeout_seconds``."""
    out: dict[str, str] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name.startswith(f"{ENV_PREFIX}TEST_"):
            continue
        key = name[len(ENV_PREFIX) :].lower().replace("__", ".")
        if key in _NOT_CONFIG_ENV:
            continue
        out[key] = raw
    return out


# DEPLOYTAG_* variables that are run inputs or CLI switches, not configuration.
_NOT_CONFIG_ENV = {"branch", "commit", "output", "debug", "config", "repo", "database_admin_url"}
# Registry credentials (build.registry_auth: env) are secrets, never configuration.
_NOT_CONFIG_ENV |= {"registry_username", "registry_password"}


def _coerce_env(key: str, raw: str) -> Any:
    """Env values are strings; lists are comma-separated, mappings JSON."""
    field_type = _leaf_annotation(key)
    text = str(field_type)
    if raw.startswith(("[", "{")):
        import json

        try:
            return json.loads(raw)
        except ValueError as e:
            raise ConfigError(
                f"environment variable {ENV_PREFIX}{key.upper().replace('.', '__')}: invalid JSON",
                hint="give a comma-separated list or valid JSON",
            ) from e
    if text.startswith("list[") or "list[" in text:
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def _leaf_annotation(dotted: str) -> Any:
    model: Any = Config
    annotation: Any = None
    for part in dotted.split("."):
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return None
        annotation = fields[part].annotation
        model = annotation
    return annotation


def find_config(start: Path) -> Path | None:
    """``deploytag.yaml`` in ``start`` or the nearest parent directory."""
    start = start.resolve()
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def load_config(
    *,
    repo: Path,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> LoadedConfig:
    """Load, merge by precedence and validate; raise one ConfigError naming file and key."""
    environ = os.environ if environ is None else environ
    path = config_file if config_file is not None else find_config(repo)
    if config_file is not None and not config_file.is_file():
        raise ConfigError(
            f"configuration file {config_file} not found",
            hint="pass --config with an existing file or create deploytag.yaml",
        )
    if path is None:
        raise ConfigError(
            f"no {CONFIG_FILE} in {repo.resolve()} or its parents",
            hint="run deploytag from the app repository or pass --repo/--config (see docs/configuration.md)",
        )
    root = path.parent
    file_data = _read_yaml(path)
    merged: dict[str, Any] = _deep_copy(file_data)
    sources: dict[str, str] = dict.fromkeys(flatten(file_data), f"file {path.name}")

    for key, raw in sorted(_env_overrides(environ).items()):
        _set_dotted(merged, key, _coerce_env(key, raw))
        env_name = ENV_PREFIX + key.upper().replace(".", "__")
        sources[key] = f"env {env_name}"
        _drop_children(sources, key)
    for key, value in (flags or {}).items():
        if value is None:
            continue
        _set_dotted(merged, key, value)
        sources[key] = "flag"
        _drop_children(sources, key)

    try:
        config = Config.model_validate(merged)
    except ValidationError as e:
        raise ConfigError(_describe_validation(e, path, sources), hint=_hint_for(e)) from e

    leaves = flatten(config.model_dump(mode="json"))
    full_sources = {key: _source_for(key, sources) for key in leaves}
    return LoadedConfig(config=config, root=root, file=path, sources=full_sources)


def _deep_copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data


def _drop_children(sources: dict[str, str], key: str) -> None:
    for existing in [k for k in sources if k.startswith(key + ".")]:
        del sources[existing]


def _source_for(key: str, sources: Mapping[str, str]) -> str:
    probe = key
    while True:
        if probe in sources:
            return sources[probe]
        if "." not in probe:
            return "default"
        probe = probe.rsplit(".", 1)[0]


def _describe_validation(e: ValidationError, path: Path, sources: Mapping[str, str]) -> str:
    first = e.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    origin = _source_for(key, sources)
    where = path.name if origin in ("default",) or origin.startswith("file") else origin
    kind = first["type"]
    if kind == "extra_forbidden":
        problem = "unknown key"
    elif kind == "missing":
        problem = "required key is missing"
    else:
        problem = first["msg"]
        if "input" in first and not isinstance(first["input"], dict | list):
            problem += f" (got {first['input']!r})"
    more = f" (+{e.error_count() - 1} more)" if e.error_count() > 1 else ""
    return f"{where}: {key}: {problem}{more}"


def _hint_for(e: ValidationError) -> str:
    kind = e.errors()[0]["type"]
    if kind == "extra_forbidden":
        return "remove it or check its spelling against docs/configuration.md"
    if kind == "missing":
        return "add it (see docs/configuration.md)"
    return "fix the value (see docs/configuration.md)"
