"""Which values a release gets, layer by layer (DESIGN.md "Transparent Helm").

Order, lowest first: the chart's values.yaml, ``chart.values`` files, the
environment's files (``chart.environments[<env>]``), the values DeployTag
injects (names, image, secret name), then ``chart.set`` and ``--set``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deploytag.core import yamlio
from deploytag.core.branch import EnvironmentMatch
from deploytag.core.config import LoadedConfig
from deploytag.core.errors import ChartError
from deploytag.core.naming import NamePlan
from deploytag.core.values import ValuesLayer, build_layers, deep_merge, local_source, parse_set


def chart_dir(loaded: LoadedConfig) -> Path:
    path = loaded.resolve(loaded.config.chart.path)
    if not (path / "Chart.yaml").is_file():
        raise ChartError(
            f"no Helm chart at {path} (Chart.yaml missing)",
            hint="set chart.path in deploytag.yaml to the chart directory",
        )
    return path


def values_files(loaded: LoadedConfig, environment: str) -> list[Path]:
    chart = loaded.config.chart
    files = [loaded.resolve(p) for p in (*chart.values, *chart.environments.get(environment, []))]
    for path in files:
        if not path.is_file():
            raise ChartError(
                f"values file {path} does not exist",
                hint="fix chart.values / chart.environments in deploytag.yaml",
            )
    return files


def injected_values(names: NamePlan, match: EnvironmentMatch, loaded: LoadedConfig) -> dict[str, Any]:
    """What DeployTag tells the chart about the environment. Never secret values."""
    values: dict[str, Any] = {
        "deploytag": {
            "app": names.app,
            "branch": names.branch,
            "slug": names.slug,
            "commit": names.commit,
            "environment": names.environment,
            "kind": names.kind,
            "namespace": names.namespace,
            "release": names.release,
            "hosts": [r.fqdn for r in names.dns_records if r.fqdn],
        }
    }
    ingress = ingress_values(names, loaded)
    if ingress:
        values["ingress"] = ingress
    for ref in names.images:
        key = loaded.config.images[ref.name].values_key
        values[key] = {"repository": ref.repository, "tag": ref.tags[0]}
    if loaded.config.secrets.ids:
        values[loaded.config.secrets.values_key] = names.secret_name
    return values


def ingress_values(names: NamePlan, loaded: LoadedConfig) -> dict[str, Any]:
    """Ingress rules route by the environment's DNS names; TLS by cert-manager or an existing Secret.

    ``enabled`` only when a shared ingress controller is the DNS target: with a
    LoadBalancer Service per environment no Ingress is needed.
    """
    dns = loaded.config.dns
    hosts = [r.fqdn for r in names.dns_records if r.fqdn]
    if dns.provider is None or not hosts:
        return {}
    values: dict[str, Any] = {"hosts": hosts}
    if dns.target.source == "ingress-controller" and not dns.target.address:
        values["enabled"] = True
    if dns.tls.cluster_issuer:
        values["annotations"] = {"cert-manager.io/cluster-issuer": dns.tls.cluster_issuer}
    if dns.tls.cluster_issuer or dns.tls.secret_name:
        # cert-manager writes the certificate into this Secret; a wildcard one already holds it.
        secret = dns.tls.secret_name or f"{names.release}-tls"
        values["tls"] = [{"hosts": hosts, "secretName": secret}]
    return values


def set_overrides(loaded: LoadedConfig, extra: Mapping[str, str]) -> dict[str, str]:
    return {**loaded.config.chart.set, **extra}


def helm_values(
    loaded: LoadedConfig,
    match: EnvironmentMatch,
    *,
    injected: Mapping[str, Any],
    set_values: Mapping[str, str],
) -> tuple[list[Path], dict[str, Any]]:
    """What helm gets: the values files (``-f``, in order) and one mapping that goes last.

    The same as ``helm_inputs(release_layers(...))`` without reading the chart's own
    values, which helm reads itself; ``values --explain`` builds every layer.
    """
    overrides = parse_set(set_overrides(loaded, set_values))
    return values_files(loaded, match.environment), deep_merge(injected, overrides)


def release_layers(
    loaded: LoadedConfig,
    match: EnvironmentMatch,
    *,
    injected: Mapping[str, Any],
    set_values: Mapping[str, str],
) -> list[ValuesLayer]:
    """Every values layer of this release, lowest first, as helm will apply them."""
    return build_layers(
        chart=chart_dir(loaded),
        values_files=values_files(loaded, match.environment),
        injected=injected,
        set_values=set_overrides(loaded, set_values),
    )


def digest_chart(chart: Path) -> str:
    """Content hash of the chart and its local (file://) dependencies.

    Packaged archives in charts/ are skipped: `helm dependency build` rewrites
    them with fresh timestamps, so their bytes change when nothing else does.
    """
    h = hashlib.sha256()
    seen: set[Path] = set()
    _hash_tree(chart.resolve(), h, seen)
    return h.hexdigest()


def _hash_tree(root: Path, h: Any, seen: set[Path]) -> None:
    if root in seen:
        return
    seen.add(root)
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or (rel.parts[0] == "charts" and path.suffix == ".tgz"):
            continue
        if rel.name == "Chart.lock":
            continue
        h.update(str(rel).encode())
        h.update(path.read_bytes())
    for dep in _local_dependencies(root):
        _hash_tree(dep, h, seen)


def _local_dependencies(chart: Path) -> list[Path]:
    import yaml

    try:
        meta = yamlio.load((chart / "Chart.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    deps = meta.get("dependencies") or []
    out = []
    for dep in deps:
        repo = dep.get("repository", "") if isinstance(dep, dict) else ""
        target = local_source(chart, repo) if isinstance(repo, str) else None
        if target is not None and target.is_dir():
            out.append(target)
    return out


def fingerprint(parts: Mapping[str, Any]) -> str:
    """A stable hash of everything that decides what the release looks like."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
