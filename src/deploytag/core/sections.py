"""The common options of the sections providers extend: ``build``, ``secrets`` and ``dns``.

A section's providers add their settings after these options (``adapters/images/settings.py``
subclasses ``BuildOptions``, ``adapters/secrets/settings.py`` ``SecretsOptions``,
``adapters/dns/settings.py`` ``DnsOptions``), and ``core.config.schema`` completes each
section from the provider class. Subclassing in a chain keeps the keys in the order they
were always documented, options first; msgspec Structs cannot combine two bases with fields.
This module is outside ``core.config`` for the reason given in ``core.settingsmodel``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, field, structs

from deploytag.core.settingsmodel import SettingsModel, require_printable


class BuildOptions(SettingsModel):
    """Options of every builder; the builders' own settings follow (``BuilderSettings``)."""

    enabled: Annotated[
        bool,
        Meta(
            description="build and push images on deploy; false uses the commit tags as they are (like --skip-build)"
        ),
    ] = True
    builder: Annotated[
        Literal["auto", "buildah", "docker", "kaniko"],
        Meta(
            description=(
                "image builder: buildah (daemonless, preferred when installed), docker (buildx), or kaniko "
                "(a Job in the cluster; only when chosen)"
            )
        ),
    ] = "auto"
    args: Annotated[
        dict[str, str],
        Meta(
            description="build arguments for both Dockerfiles; never secrets (they stay in the image history)"
        ),
    ] = field(default_factory=dict)
    latest_branch: Annotated[
        str | None,
        Meta(description="branch whose app image is also tagged 'latest' (the production branch)"),
    ] = "main"
    platform: Annotated[str | None, Meta(description="target platform, e.g. linux/amd64")] = None
    push: Annotated[bool, Meta(description="push images; false builds locally only (no digest to pin)")] = (
        True
    )
    registry_auth: Annotated[
        Literal["auto", "env", "auth-file", "ecr", "none"],
        Meta(
            description=(
                "registry credentials: env (DEPLOYTAG_REGISTRY_USERNAME/PASSWORD), auth-file "
                "(REGISTRY_AUTH_FILE, podman/docker login), ecr (boto3 token); auto tries them in that order"
            )
        ),
    ] = "auto"
    insecure_registries: Annotated[
        list[str], Meta(description="registry hosts spoken to over plain HTTP (loopback registries)")
    ] = field(default_factory=lambda: ["localhost", "127.0.0.1"])
    timeout_seconds: Annotated[int, Meta(ge=1, description="seconds one build or push may take")] = 1800


class SecretsOptions(SettingsModel):
    """Which store and which ids; the stores' own settings follow (``SecretStoreSettings``)."""

    provider: Annotated[
        str,
        Meta(description="secret store: 'file' (embedded default, no cloud) or 'aws' (Secrets Manager)"),
    ] = "file"
    ids: Annotated[
        list[str], Meta(description="store ids merged in order, later wins (e.g. staging/app)")
    ] = field(default_factory=list)

    def __post_init__(self) -> None:
        require_printable(self, "provider", "ids")


class DnsTargetConfig(SettingsModel):
    source: Annotated[
        Literal["auto", "ingress-controller", "service"],
        Meta(
            description="where the address comes from: 'service' a LoadBalancer Service in the environment's "
            "namespace, 'ingress-controller' the shared controller's Service, 'auto' the first if there is one"
        ),
    ] = "auto"
    namespace: Annotated[str, Meta(description="ingress-controller: its namespace")] = "ingress-nginx"
    service: Annotated[
        str | None,
        Meta(
            description="the Service to read; default ingress-nginx-controller (ingress-controller) or the "
            "environment's first LoadBalancer Service (service)"
        ),
    ] = None
    address: Annotated[
        str | None,
        Meta(description="a fixed hostname or IP instead of discovery (e.g. an existing ALB)"),
    ] = None
    wait_seconds: Annotated[
        int, Meta(ge=0, description="how long to wait for the load balancer to get an address")
    ] = 300

    def __post_init__(self) -> None:
        require_printable(self, "address")


class DnsTlsConfig(SettingsModel):
    cluster_issuer: Annotated[
        str | None,
        Meta(description="cert-manager ClusterIssuer: sets the cert-manager.io/cluster-issuer annotation"),
    ] = None
    secret_name: Annotated[
        str | None,
        Meta(description="existing (wildcard) TLS Secret in the namespace, used for every host"),
    ] = None


class DnsOptions(SettingsModel):
    """Provider, zone and records; each provider's section follows (``DnsProviderSettings``)."""

    provider: Annotated[
        str | None,
        Meta(
            description="DNS provider: cloudflare, route53, rfc2136 or powerdns; none (or 'none'): no DNS step"
        ),
    ] = None
    zone: Annotated[str | None, Meta(description="zone the records are created in, e.g. example.com")] = None
    zone_id: Annotated[str | None, Meta(description="provider's zone id (Cloudflare zone id)")] = None
    records: Annotated[
        list[str], Meta(description="record name templates, e.g. '{.Branch}-guest-server-frontend-aws'")
    ] = field(default_factory=list)
    ttl: Annotated[int, Meta(ge=1, description="record TTL in seconds (Cloudflare: 1 means automatic)")] = 300
    proxied: Annotated[bool, Meta(description="cloudflare: route traffic through Cloudflare's proxy")] = False
    target: DnsTargetConfig = field(default_factory=DnsTargetConfig)
    tls: DnsTlsConfig = field(default_factory=DnsTlsConfig)

    def __post_init__(self) -> None:
        if self.provider in ("", "none"):
            # DEPLOYTAG_DNS__PROVIDER=none switches DNS off for a run (e.g. a cluster without a DNS zone).
            structs.force_setattr(self, "provider", None)
        require_printable(self, "provider", "zone", "zone_id", "records")
