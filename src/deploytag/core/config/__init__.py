"""DeployTag's configuration: the schema (``schema``) and the loader (``loader``).

Callers import from here; the names below are what they used before the split.
Providers' settings models are imported from their adapter package
(``deploytag.adapters.dns.settings``, ``images.settings``, ``secrets.settings``).
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Imported on first use, not with the package: the providers' settings modules
# (``adapters/*/settings.py``) import ``core.config.base``, which runs this file, and the
# schema imports them; importing the schema here would make that a cycle whenever a
# settings module (or an adapter that imports one) is imported first.
_MODULES = {
    **dict.fromkeys(
        ["CONFIG_FILE", "ENV_PREFIX", "LoadedConfig", "find_config", "flatten", "load_config"], "loader"
    ),
    **dict.fromkeys(
        [
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
            "ImageConfig",
            "LintConfig",
            "PermanentEnvironment",
            "QuotaConfig",
            "SecretsConfig",
            "Severity",
            "TestConfig",
            "ToolsConfig",
        ],
        "schema",
    ),
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


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
]
