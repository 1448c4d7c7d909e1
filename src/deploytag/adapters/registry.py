"""Providers found through entry points, the built-ins included (like httpie's plugins).

A new secret store or cluster provider is a module in any installed package
that declares an entry point in the ``deploytag.secret_stores`` or
``deploytag.clusters`` group.
"""

from __future__ import annotations

import importlib
from typing import Any

from deploytag.core.errors import ConfigError

# Used when DeployTag runs from a source tree without installed metadata.
BUILTINS: dict[str, dict[str, str]] = {
    "deploytag.secret_stores": {
        "file": "deploytag.adapters.filesecrets:FileSecretStore",
        "aws": "deploytag.adapters.aws:AwsSecretsManagerStore",
    },
    "deploytag.databases": {
        "postgres": "deploytag.adapters.postgres:PostgresDatabase",
        "mysql": "deploytag.adapters.mysql:MySqlDatabase",
    },
    "deploytag.clusters": {
        "kubernetes": "deploytag.adapters.kubernetes:KubernetesCluster",
        "memory": "deploytag.adapters.memory:MemoryCluster",
    },
    "deploytag.builders": {
        "buildah": "deploytag.adapters.buildah:BuildahBuilder",
        "docker": "deploytag.adapters.docker:DockerBuildxBuilder",
        "kaniko": "deploytag.adapters.kaniko:KanikoBuilder",
    },
    "deploytag.dns": {
        "cloudflare": "deploytag.adapters.cloudflare:CloudflareDns",
        "route53": "deploytag.adapters.route53:Route53Dns",
        "rfc2136": "deploytag.adapters.rfc2136:Rfc2136Dns",
        "powerdns": "deploytag.adapters.powerdns:PowerDnsDns",
    },
}

_CONFIG_KEYS = {
    "deploytag.secret_stores": "secrets.provider",
    "deploytag.clusters": "cluster.provider",
    "deploytag.builders": "build.builder",
    "deploytag.dns": "dns.provider",
    "deploytag.databases": "database.engine",
}


def available(group: str) -> dict[str, str]:
    from importlib.metadata import entry_points

    found = dict(BUILTINS.get(group, {}))
    for ep in entry_points(group=group):
        found[ep.name] = ep.value
    return found


def load_provider(group: str, name: str) -> Any:
    """The class registered as ``name`` in ``group``; ConfigError listing the choices.

    Built-in names resolve without scanning installed distributions (tens of
    milliseconds on every run); other names are looked up through entry points.
    """
    target = BUILTINS.get(group, {}).get(name)
    choices: dict[str, str] = {}
    if target is None:
        choices = available(group)
        target = choices.get(name)
    if target is None:
        raise ConfigError(
            f"unknown provider {name!r} for {_CONFIG_KEYS.get(group, group)}",
            hint=f"use one of: {', '.join(sorted(choices))}",
        )
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        extras = {
            "boto": "aws",
            "kubernetes": "kubernetes",
            "psycopg": "postgres",
            "pymysql": "mysql",
            "cloudflare": "dns",
            "dns": "dns",
        }
        extra = next((v for k, v in extras.items() if str(e.name or "").startswith(k)), "all")
        raise ConfigError(
            f"provider {name!r} needs a package that is not installed ({e.name})",
            hint=f"pip install 'deploytag[{extra}]'",
        ) from e
    return getattr(module, attr)
