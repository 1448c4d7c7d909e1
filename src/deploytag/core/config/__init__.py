"""DeployTag's configuration: the schema (``schema``) and the loader (``loader``).

Callers import from here; the names below are what they used before the split.
Providers' settings models are imported from their adapter package
(``deploytag.adapters.dns.settings``, ``images.settings``, ``secrets.settings``).
"""

from deploytag.core.config.loader import (
    CONFIG_FILE,
    ENV_PREFIX,
    LoadedConfig,
    find_config,
    flatten,
    load_config,
    parse_config,
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
    FeedbackConfig,
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
    "ChartConfig",
    "ClusterConfig",
    "Config",
    "DatabaseConfig",
    "DatabaseVariables",
    "DnsConfig",
    "DnsTargetConfig",
    "DnsTlsConfig",
    "FeedbackConfig",
    "ImageConfig",
    "LintConfig",
    "LoadedConfig",
    "PermanentEnvironment",
    "QuotaConfig",
    "SecretsConfig",
    "Severity",
    "TestConfig",
    "ToolsConfig",
    "find_config",
    "flatten",
    "load_config",
    "parse_config",
]
