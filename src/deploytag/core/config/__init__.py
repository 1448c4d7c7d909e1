"""DeployTag's configuration: the schema (``schema``) and the loader (``loader``).

Callers import from here; the names below are what they used before the split.
"""

from deploytag.adapters.dns.settings import (
    CloudflareConfig,
    DnsProviderSettings,
    PowerDnsConfig,
    Rfc2136Config,
    Route53Config,
)
from deploytag.adapters.images.settings import BuilderSettings, KanikoConfig
from deploytag.core.config.loader import (
    CONFIG_FILE,
    ENV_PREFIX,
    LoadedConfig,
    find_config,
    flatten,
    load_config,
)
from deploytag.core.config.schema import (
    BranchRules,
    BuildConfig,
    ChartConfig,
    ClusterConfig,
    Config,
    DatabaseConfig,
    DatabaseVariables,
    DnsConfig,
    DnsTargetConfig,
    DnsTlsConfig,
    ImageConfig,
    LintConfig,
    PermanentEnvironment,
    QuotaConfig,
    SecretsConfig,
    Severity,
    TestConfig,
    ToolsConfig,
)

__all__ = [
    "CONFIG_FILE",
    "ENV_PREFIX",
    "BranchRules",
    "BuildConfig",
    "BuilderSettings",
    "ChartConfig",
    "CloudflareConfig",
    "ClusterConfig",
    "Config",
    "DatabaseConfig",
    "DatabaseVariables",
    "DnsConfig",
    "DnsProviderSettings",
    "DnsTargetConfig",
    "DnsTlsConfig",
    "ImageConfig",
    "KanikoConfig",
    "LintConfig",
    "LoadedConfig",
    "PermanentEnvironment",
    "PowerDnsConfig",
    "QuotaConfig",
    "Rfc2136Config",
    "Route53Config",
    "SecretsConfig",
    "Severity",
    "TestConfig",
    "ToolsConfig",
    "find_config",
    "flatten",
    "load_config",
]
