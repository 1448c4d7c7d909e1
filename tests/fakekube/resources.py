"""The resource table of the fake API server, and the discovery documents built from it.

One :class:`ResourceType` per (group, version, resource). Objects are stored per
(group, resource), so the two autoscaling versions share one store (only
``apiVersion`` differs on the way out), and ``events.k8s.io/v1`` events are a
converted view of core ``v1`` events, as on a real API server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
SUB_VERBS = ["get", "patch", "update"]


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    resource: str  # plural, lower case: "deployments"
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()  # "status", "scale", "log"
    categories: tuple[str, ...] = ()
    generation: bool = False  # metadata.generation is kept (spec changes bump it)
    verbs: tuple[str, ...] = tuple(VERBS)
    storage_group: str | None = None  # stored under another group (events.k8s.io -> core)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def qualified(self) -> str:
        """``deployments.apps`` / ``pods``, as error messages name a resource."""
        return f"{self.resource}.{self.group}" if self.group else self.resource

    @property
    def store_key(self) -> tuple[str, str]:
        group = self.group if self.storage_group is None else self.storage_group
        return (group, self.resource)

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources


def _r(
    group: str,
    version: str,
    resource: str,
    kind: str,
    *,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    sub: tuple[str, ...] = (),
    cat: tuple[str, ...] = (),
    generation: bool = False,
    storage_group: str | None = None,
) -> ResourceType:
    return ResourceType(
        group, version, resource, kind, namespaced, short, sub, cat, generation, tuple(VERBS), storage_group
    )


RESOURCES: list[ResourceType] = [
    # core/v1
    _r("", "v1", "namespaces", "Namespace", namespaced=False, short=("ns",), sub=("status", "finalize")),
    _r("", "v1", "nodes", "Node", namespaced=False, short=("no",), sub=("status",)),
    _r("", "v1", "persistentvolumes", "PersistentVolume", namespaced=False, short=("pv",), sub=("status",)),
    _r("", "v1", "pods", "Pod", short=("po",), sub=("status", "log"), cat=("all",)),
    _r("", "v1", "services", "Service", short=("svc",), sub=("status",), cat=("all",)),
    _r("", "v1", "secrets", "Secret"),
    _r("", "v1", "configmaps", "ConfigMap", short=("cm",)),
    _r("", "v1", "serviceaccounts", "ServiceAccount", short=("sa",)),
    _r("", "v1", "events", "Event", short=("ev",)),
    _r("", "v1", "resourcequotas", "ResourceQuota", short=("quota",), sub=("status",)),
    _r("", "v1", "limitranges", "LimitRange", short=("limits",)),
    _r("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", short=("pvc",), sub=("status",)),
    _r("", "v1", "endpoints", "Endpoints", short=("ep",)),
    _r(
        "",
        "v1",
        "replicationcontrollers",
        "ReplicationController",
        short=("rc",),
        sub=("status", "scale"),
        cat=("all",),
        generation=True,
    ),
    # apps/v1
    _r(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        short=("deploy",),
        sub=("status", "scale"),
        cat=("all",),
        generation=True,
    ),
    _r(
        "apps",
        "v1",
        "statefulsets",
        "StatefulSet",
        short=("sts",),
        sub=("status", "scale"),
        cat=("all",),
        generation=True,
    ),
    _r(
        "apps", "v1", "daemonsets", "DaemonSet", short=("ds",), sub=("status",), cat=("all",), generation=True
    ),
    _r(
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        short=("rs",),
        sub=("status", "scale"),
        cat=("all",),
        generation=True,
    ),
    _r("apps", "v1", "controllerrevisions", "ControllerRevision"),
    # batch/v1
    _r("batch", "v1", "jobs", "Job", sub=("status",), cat=("all",), generation=True),
    _r("batch", "v1", "cronjobs", "CronJob", short=("cj",), sub=("status",), cat=("all",), generation=True),
    # coordination.k8s.io/v1
    _r("coordination.k8s.io", "v1", "leases", "Lease"),
    # networking.k8s.io/v1
    _r("networking.k8s.io", "v1", "ingresses", "Ingress", short=("ing",), sub=("status",), generation=True),
    _r("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", short=("netpol",), generation=True),
    _r("networking.k8s.io", "v1", "ingressclasses", "IngressClass", namespaced=False),
    # rbac.authorization.k8s.io/v1
    _r("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    _r("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    _r("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False),
    _r("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", namespaced=False),
    # policy/v1
    _r(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        short=("pdb",),
        sub=("status",),
        generation=True,
    ),
    # autoscaling v2 (preferred) and v1, one store
    _r(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        short=("hpa",),
        sub=("status",),
        cat=("all",),
        generation=True,
    ),
    _r(
        "autoscaling",
        "v1",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        short=("hpa",),
        sub=("status",),
        cat=("all",),
        generation=True,
    ),
    # events.k8s.io/v1: a view of core/v1 events
    _r("events.k8s.io", "v1", "events", "Event", short=("ev",), storage_group=""),
    # discovery.k8s.io/v1
    _r("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice"),
    # storage.k8s.io/v1
    _r("storage.k8s.io", "v1", "storageclasses", "StorageClass", namespaced=False, short=("sc",)),
    # scheduling.k8s.io/v1
    _r("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", namespaced=False, short=("pc",)),
]

# group -> versions, preferred first
GROUP_VERSIONS: dict[str, list[str]] = {}
for _rt in RESOURCES:
    GROUP_VERSIONS.setdefault(_rt.group, [])
    if _rt.version not in GROUP_VERSIONS[_rt.group]:
        GROUP_VERSIONS[_rt.group].append(_rt.version)

_BY_GVR: dict[tuple[str, str, str], ResourceType] = {(r.group, r.version, r.resource): r for r in RESOURCES}


def lookup(group: str, version: str, resource: str) -> ResourceType | None:
    return _BY_GVR.get((group, version, resource))


def preferred(group: str, resource: str) -> ResourceType | None:
    for version in GROUP_VERSIONS.get(group, []):
        found = _BY_GVR.get((group, version, resource))
        if found is not None:
            return found
    return None


def resolve(name: str) -> ResourceType:
    """Find a type by a loose name, for test code: ``deployments``, ``deploy``, ``Deployment``,
    ``deployments.apps``, ``apps/v1/deployments``, ``v1/pods``, ``events.k8s.io/v1/events``."""
    if "/" in name:
        parts = name.split("/")
        found = lookup("", parts[0], parts[1]) if len(parts) == 2 else lookup(parts[0], parts[1], parts[2])
        if found is None:
            raise KeyError(f"unknown resource {name!r}")
        return found
    plural, _, group = name.partition(".")
    matches = []
    for rtype in RESOURCES:
        if group and rtype.group != group:
            continue
        names = {rtype.resource, rtype.kind.lower(), rtype.singular, *rtype.short_names}
        if plural.lower() in names or (not group and name == rtype.kind):
            matches.append(rtype)
    if not matches:
        raise KeyError(f"unknown resource {name!r}")
    # core beats events.k8s.io; the preferred version beats the others
    matches.sort(key=lambda r: (r.storage_group is not None, GROUP_VERSIONS[r.group].index(r.version)))
    first = matches[0]
    if any(m.store_key != first.store_key for m in matches[1:]):
        raise KeyError(f"ambiguous resource {name!r}: qualify it with its group")
    return first


# ---------------------------------------------------------------------------
# Discovery


def _sub_kind(rtype: ResourceType, sub: str) -> tuple[str, str, str]:
    """(group, version, kind) a subresource answers with."""
    if sub == "scale":
        return ("autoscaling", "v1", "Scale")
    if sub == "log":
        return ("", "v1", "Pod")
    return (rtype.group, rtype.version, rtype.kind)


def _sub_verbs(sub: str) -> list[str]:
    if sub == "log":
        return ["get"]
    if sub == "finalize":
        return ["update"]
    return list(SUB_VERBS)


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def api_group_list() -> dict[str, Any]:
    groups = []
    for group, versions in GROUP_VERSIONS.items():
        if not group:
            continue
        groups.append(
            {
                "name": group,
                "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
                "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]},
            }
        )
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict[str, Any] | None:
    versions = GROUP_VERSIONS.get(group)
    if not group or not versions:
        return None
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
        "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]},
    }


def api_resource_list(group: str, version: str) -> dict[str, Any] | None:
    types = [r for r in RESOURCES if r.group == group and r.version == version]
    if not types:
        return None
    resources: list[dict[str, Any]] = []
    for rtype in types:
        entry: dict[str, Any] = {
            "name": rtype.resource,
            "singularName": rtype.singular,
            "namespaced": rtype.namespaced,
            "kind": rtype.kind,
            "verbs": list(rtype.verbs),
        }
        if rtype.short_names:
            entry["shortNames"] = list(rtype.short_names)
        if rtype.categories:
            entry["categories"] = list(rtype.categories)
        resources.append(entry)
        for sub in rtype.subresources:
            sgroup, sversion, skind = _sub_kind(rtype, sub)
            sub_entry: dict[str, Any] = {
                "name": f"{rtype.resource}/{sub}",
                "singularName": "",
                "namespaced": rtype.namespaced,
                "kind": skind,
                "verbs": _sub_verbs(sub),
            }
            if (sgroup, sversion) != (rtype.group, rtype.version):
                sub_entry["group"] = sgroup
                sub_entry["version"] = sversion
            resources.append(sub_entry)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


AGGREGATED_MEDIA = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def aggregated_discovery(core: bool) -> dict[str, Any]:
    """The ``apidiscovery.k8s.io/v2`` document for ``/api`` (core) or ``/apis``."""
    items = []
    for group, versions in GROUP_VERSIONS.items():
        if (group == "") != core:
            continue
        version_docs = []
        for version in versions:
            resources = []
            for rtype in RESOURCES:
                if rtype.group != group or rtype.version != version:
                    continue
                doc: dict[str, Any] = {
                    "resource": rtype.resource,
                    "responseKind": {"group": group, "version": version, "kind": rtype.kind},
                    "scope": "Namespaced" if rtype.namespaced else "Cluster",
                    "singularResource": rtype.singular,
                    "verbs": list(rtype.verbs),
                }
                if rtype.short_names:
                    doc["shortNames"] = list(rtype.short_names)
                if rtype.categories:
                    doc["categories"] = list(rtype.categories)
                if rtype.subresources:
                    doc["subresources"] = []
                    for sub in rtype.subresources:
                        sgroup, sversion, skind = _sub_kind(rtype, sub)
                        doc["subresources"].append(
                            {
                                "subresource": sub,
                                "responseKind": {"group": sgroup, "version": sversion, "kind": skind},
                                "verbs": _sub_verbs(sub),
                            }
                        )
                resources.append(doc)
            version_docs.append({"version": version, "resources": resources, "freshness": "Current"})
        items.append({"metadata": {"name": group, "creationTimestamp": None}, "versions": version_docs})
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }
