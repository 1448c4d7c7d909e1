"""The stateful object store behind the fake API server.

Every object lives under (group, resource) -> (namespace, name); a single
global counter gives out resourceVersions; every change is appended to an
event log that watches read from. Writes made through the API run the
controllers (``controllers.py``) before the response is sent, so a GET right
after a create already sees a Deployment's ReplicaSet, Pods and status.

Test code uses the public helpers: :meth:`Store.get`, :meth:`Store.list`,
:meth:`Store.create`, :meth:`Store.put`, :meth:`Store.delete`.
"""

from __future__ import annotations

import base64
import builtins
import copy
import datetime as dt
import json
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import patches
from .defaults import apply_defaults, validate
from .errors import ApiError
from .resources import RESOURCES, ResourceType, preferred, resolve
from .selectors import parse_field_selector, parse_label_selector

Obj = dict[str, Any]
StoreKey = tuple[str, str]
PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def now_rfc3339(ts: float | None = None) -> str:
    moment = dt.datetime.fromtimestamp(time.time() if ts is None else ts, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def now_micro(ts: float | None = None) -> str:
    moment = dt.datetime.fromtimestamp(time.time() if ts is None else ts, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def random_suffix(length: int = 5) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"  # the apiserver's generateName alphabet
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass
class WatchEvent:
    rv: int
    type: str  # ADDED, MODIFIED, DELETED
    key: StoreKey
    namespace: str
    name: str
    obj: Obj  # the object after the change (the last state for DELETED)
    old: Obj | None  # the object before the change


# ---------------------------------------------------------------------------
# events.k8s.io/v1 <-> core/v1 Event


_EVENT_FIELDS = [  # (core/v1, events.k8s.io/v1)
    ("involvedObject", "regarding"),
    ("related", "related"),
    ("message", "note"),
    ("reason", "reason"),
    ("type", "type"),
    ("action", "action"),
    ("eventTime", "eventTime"),
    ("reportingComponent", "reportingController"),
    ("reportingInstance", "reportingInstance"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
]


def event_to_v1beta(core: Obj) -> Obj:
    out: Obj = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": core.get("metadata", {})}
    for old, new in _EVENT_FIELDS:
        if core.get(old) not in (None, "", {}):
            out[new] = core[old]
    if isinstance(core.get("series"), dict):
        out["series"] = core["series"]
    return out


def event_from_v1beta(new: Obj) -> Obj:
    out: Obj = {"apiVersion": "v1", "kind": "Event", "metadata": new.get("metadata", {})}
    for old, newer in _EVENT_FIELDS:
        if new.get(newer) not in (None, "", {}):
            out[old] = new[newer]
    if isinstance(new.get("series"), dict):
        out["series"] = new["series"]
    return out


def _spec_part(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


class Store:
    """All objects, the watch event log, and the hooks controllers hang on."""

    def __init__(self, *, event_log_size: int = 50_000) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._objects: dict[StoreKey, dict[tuple[str, str], Obj]] = {}
        self._rv = 1
        self._log: deque[WatchEvent] = deque(maxlen=event_log_size)
        self._queue: deque[tuple[StoreKey, str, str]] = deque()
        self._draining = False
        self._applied: dict[tuple[StoreKey, str, str, str], Obj] = {}
        self.reconcile: Callable[[StoreKey, str, str], None] | None = None
        self.on_create: Callable[[ResourceType, Obj], None] | None = None  # allocates IPs etc.
        self.require_namespace = True

    # -- test-facing helpers -------------------------------------------------------------------

    def get(self, resource: str, namespace: str | None, name: str) -> Obj | None:
        """A copy of one object (``resource`` as in :func:`resources.resolve`), or None."""
        rtype = resolve(resource)
        with self.lock:
            obj = self._objects.get(rtype.store_key, {}).get(
                (namespace or "" if rtype.namespaced else "", name)
            )
            return self.view(rtype, obj) if obj is not None else None

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> builtins.list[Obj]:
        """Copies of the matching objects, sorted by namespace and name."""
        rtype = resolve(resource)
        with self.lock:
            return self._select(rtype, namespace, label_selector, field_selector)

    def create(self, obj: Obj, namespace: str | None = None) -> Obj:
        """Create an object as a client would (defaults, validation, controllers)."""
        rtype = self.type_of(obj)
        ns = (
            namespace
            or (obj.get("metadata") or {}).get("namespace")
            or ("default" if rtype.namespaced else "")
        )
        return self.api_create(rtype, ns, obj)

    def put(self, obj: Obj) -> Obj:
        """Create or overwrite an object as a controller would: no checks, status kept."""
        rtype = self.type_of(obj)
        with self.lock:
            meta = obj.setdefault("metadata", {})
            ns = meta.get("namespace", "") if rtype.namespaced else ""
            old = self._objects.get(rtype.store_key, {}).get((ns, meta["name"]))
            stored = self._internal_write(rtype, copy.deepcopy(obj), old)
            self._drain()
            return self.view(rtype, stored)

    def delete(self, resource: str, namespace: str | None, name: str) -> None:
        """Delete as a client would (finalizers, garbage collection, namespace lifecycle)."""
        rtype = resolve(resource)
        self.api_delete(rtype, namespace or "", name, {})

    def namespaced_objects(self, namespace: str) -> builtins.list[Obj]:
        """Every object in a namespace, any type."""
        with self.lock:
            out: builtins.list[Obj] = []
            for key, objects in self._objects.items():
                rtype = preferred(*key)
                assert rtype is not None
                out.extend(
                    self.view(rtype, obj) for (ns, _), obj in sorted(objects.items()) if ns == namespace
                )
            return out

    @property
    def resource_version(self) -> int:
        return self._rv

    # -- plumbing -------------------------------------------------------------------------------

    @staticmethod
    def type_of(obj: Obj) -> ResourceType:
        api_version = str(obj.get("apiVersion", ""))
        group, _, version = api_version.rpartition("/")
        kind = obj.get("kind")
        for rtype in RESOURCES:
            if rtype.group == group and rtype.version == version and rtype.kind == kind:
                return rtype
        raise ApiError.bad_request(f"no kind {kind!r} is registered for version {api_version!r}")

    def view(self, rtype: ResourceType, obj: Obj) -> Obj:
        """A copy of a stored object as ``rtype``'s version shows it."""
        out = copy.deepcopy(obj)
        if rtype.storage_group is not None:
            return event_to_v1beta(out)
        out["apiVersion"] = rtype.api_version
        out["kind"] = rtype.kind
        return out

    def _from_view(self, rtype: ResourceType, body: Obj) -> Obj:
        obj = copy.deepcopy(body)
        if rtype.storage_group is not None:
            obj = event_from_v1beta(obj)
            storage = preferred(*rtype.store_key)
            assert storage is not None
            obj["apiVersion"], obj["kind"] = storage.api_version, storage.kind
        return obj

    def _storage_type(self, rtype: ResourceType) -> ResourceType:
        found = preferred(*rtype.store_key)
        assert found is not None
        return found

    def _next_rv(self) -> int:
        self._rv += 1
        return self._rv

    def _emit(self, rtype: ResourceType, event_type: str, obj: Obj, old: Obj | None) -> None:
        meta = obj["metadata"]
        self._log.append(
            WatchEvent(
                self._rv,
                event_type,
                rtype.store_key,
                meta.get("namespace", ""),
                meta["name"],
                copy.deepcopy(obj),
                copy.deepcopy(old) if old is not None else None,
            )
        )
        self._queue.append((rtype.store_key, meta.get("namespace", ""), meta["name"]))
        self.changed.notify_all()

    def _internal_write(self, rtype: ResourceType, obj: Obj, old: Obj | None) -> Obj:
        """Store ``obj`` (storage form) as the new state; emit ADDED/MODIFIED."""
        storage = self._storage_type(rtype)
        obj["apiVersion"], obj["kind"] = storage.api_version, storage.kind
        meta = obj["metadata"]
        ns = meta.get("namespace", "") if rtype.namespaced else ""
        if old is None:
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", now_rfc3339())
            if storage.generation:
                meta.setdefault("generation", 1)
        elif storage.generation:
            generation = int(old["metadata"].get("generation", 1))
            meta["generation"] = generation + 1 if _spec_part(obj) != _spec_part(old) else generation
        meta["resourceVersion"] = str(self._next_rv())
        self._objects.setdefault(rtype.store_key, {})[(ns, meta["name"])] = obj
        self._emit(rtype, "ADDED" if old is None else "MODIFIED", obj, old)
        return obj

    def _internal_remove(self, rtype: ResourceType, ns: str, name: str) -> Obj | None:
        objects = self._objects.get(rtype.store_key, {})
        obj = objects.pop((ns, name), None)
        if obj is None:
            return None
        old = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(self._next_rv())
        self._emit(rtype, "DELETED", obj, old)
        for key in [k for k in self._applied if k[:3] == (rtype.store_key, ns, name)]:
            del self._applied[key]
        return obj

    def _drain(self) -> None:
        """Run the controllers over everything that changed, until nothing does."""
        if self.reconcile is None:
            self._queue.clear()
            return
        if self._draining:
            return
        self._draining = True
        try:
            rounds = 0
            while self._queue:
                key, ns, name = self._queue.popleft()
                self.reconcile(key, ns, name)
                rounds += 1
                if rounds > 100_000:
                    raise RuntimeError("fakekube controllers did not settle")
        finally:
            self._draining = False

    def raw(self, key: StoreKey, ns: str, name: str) -> Obj | None:
        """The stored object itself (controllers only; mutate via :meth:`write`)."""
        return self._objects.get(key, {}).get((ns, name))

    def raw_list(self, key: StoreKey, ns: str | None = None) -> builtins.list[Obj]:
        objects = self._objects.get(key, {})
        return [obj for (ons, _), obj in sorted(objects.items()) if ns is None or ons == ns]

    def write(self, obj: Obj) -> Obj:
        """Controller write: store a full new state of an object (no checks, RV bumped)."""
        rtype = self.type_of(obj)
        meta = obj["metadata"]
        ns = meta.get("namespace", "") if rtype.namespaced else ""
        old = self._objects.get(rtype.store_key, {}).get((ns, meta["name"]))
        if old is not None and old is obj:
            raise RuntimeError("write() needs a copy, not the stored object")
        if old is not None and _same(old, obj):
            return old
        return self._internal_write(rtype, obj, old)

    def remove(self, key: StoreKey, ns: str, name: str, *, propagate: bool = True) -> None:
        """Controller delete: honours finalizers and collects dependents."""
        rtype = preferred(*key)
        assert rtype is not None
        obj = self.raw(key, ns, name)
        if obj is None:
            return
        self._delete_obj(rtype, obj, "Background" if propagate else "Orphan")

    # -- reads ------------------------------------------------------------------------------------

    def _select(
        self,
        rtype: ResourceType,
        namespace: str | None,
        label_selector: str | None,
        field_selector: str | None,
    ) -> builtins.list[Obj]:
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector, (rtype.group, rtype.resource))
        out = []
        for (ns, _), obj in sorted(self._objects.get(rtype.store_key, {}).items()):
            if namespace and rtype.namespaced and ns != namespace:
                continue
            shown = self.view(rtype, obj)
            if labels(shown["metadata"].get("labels") or {}) and fields(shown):
                out.append(shown)
        return out

    def api_get(self, rtype: ResourceType, ns: str, name: str) -> Obj:
        with self.lock:
            obj = self._objects.get(rtype.store_key, {}).get((ns, name))
            if obj is None:
                raise ApiError.not_found(rtype.group, rtype.resource, name)
            return self.view(rtype, obj)

    def api_list(
        self,
        rtype: ResourceType,
        ns: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int = 0,
        continue_token: str | None = None,
    ) -> Obj:
        with self.lock:
            items = self._select(rtype, ns, label_selector, field_selector)
            rv = self._rv
        start = 0
        if continue_token:
            try:
                token = json.loads(base64.urlsafe_b64decode(continue_token.encode()))
                after = tuple(token["after"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ApiError.bad_request("continue key is not valid") from exc
            start = next(
                (
                    i
                    for i, o in enumerate(items)
                    if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > after
                ),
                len(items),
            )
        meta: Obj = {"resourceVersion": str(rv)}
        page = items[start:]
        if limit and len(page) > limit:
            page = page[:limit]
            last = page[-1]["metadata"]
            token = {"after": [last.get("namespace", ""), last["name"]], "rv": rv}
            meta["continue"] = base64.urlsafe_b64encode(json.dumps(token).encode()).decode()
            meta["remainingItemCount"] = len(items) - start - limit
        for item in page:  # list items carry no TypeMeta on a real server
            item.pop("apiVersion", None)
            item.pop("kind", None)
        return {"kind": f"{rtype.kind}List", "apiVersion": rtype.api_version, "metadata": meta, "items": page}

    # -- writes ---------------------------------------------------------------------------------

    def _check_namespace(self, rtype: ResourceType, ns: str, name: str) -> None:
        if not rtype.namespaced:
            return
        if not ns:
            raise ApiError.bad_request("the server could not find the requested resource: namespace required")
        namespace = self.raw(("", "namespaces"), "", ns)
        if namespace is None:
            if self.require_namespace:
                raise ApiError.not_found("", "namespaces", ns)
            return
        if namespace["metadata"].get("deletionTimestamp"):
            raise ApiError(
                403,
                "Forbidden",
                f'{rtype.qualified} "{name}" is forbidden: unable to create new content in namespace {ns} '
                "because it is being terminated",
                {
                    "name": name,
                    "kind": rtype.resource,
                    **({"group": rtype.group} if rtype.group else {}),
                    "causes": [
                        {
                            "reason": "NamespaceTerminating",
                            "message": f"namespace {ns} is being terminated",
                            "field": "metadata.namespace",
                        }
                    ],
                },
            )

    def _check_body(self, rtype: ResourceType, ns: str, body: Any, name: str | None = None) -> Obj:
        if not isinstance(body, dict):
            raise ApiError.bad_request("the body of the request was in an unknown format")
        kind = body.get("kind")
        if kind and kind != rtype.kind:
            raise ApiError.bad_request(
                f"the API version in the data ({body.get('apiVersion')}) does not match the expected API version "
                f"({rtype.api_version})"
                if body.get("apiVersion") != rtype.api_version
                else f"the kind in the data ({kind}) does not match the expected kind ({rtype.kind})"
            )
        meta = body.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise ApiError.bad_request("metadata must be an object")
        body_ns = meta.get("namespace")
        if rtype.namespaced and body_ns and body_ns != ns:
            raise ApiError.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        if name is not None and meta.get("name") and meta["name"] != name:
            raise ApiError.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
            )
        return body

    def api_create(self, rtype: ResourceType, ns: str, body: Any, *, dry_run: bool = False) -> Obj:
        with self.lock:
            body = self._check_body(rtype, ns, body)
            obj = self._from_view(rtype, body)
            meta = obj["metadata"]
            if not meta.get("name"):
                if meta.get("generateName"):
                    meta["name"] = meta["generateName"] + random_suffix()
                else:
                    raise ApiError.invalid(
                        rtype.group,
                        rtype.kind,
                        "",
                        [("metadata.name", "Required value: name or generateName is required")],
                    )
            name = meta["name"]
            self._check_namespace(rtype, ns, name)
            if rtype.namespaced:
                meta["namespace"] = ns
            else:
                meta.pop("namespace", None)
            if self.raw(rtype.store_key, ns if rtype.namespaced else "", name) is not None:
                raise ApiError.already_exists(rtype.group, rtype.resource, name)
            for field in (
                "resourceVersion",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "managedFields",
            ):
                meta.pop(field, None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            if rtype.has_status and rtype.store_key not in (("", "nodes"), ("", "persistentvolumes")):
                obj.pop("status", None)
            apply_defaults(rtype, obj)
            validate(rtype, obj, None)
            if self.on_create is not None:
                self.on_create(rtype, obj)
            if dry_run:
                return self.view(rtype, obj)
            stored = self._internal_write(rtype, obj, None)
            self._drain()
            return self.view(rtype, stored)

    def api_update(
        self,
        rtype: ResourceType,
        ns: str,
        name: str,
        body: Any,
        *,
        subresource: str = "",
        dry_run: bool = False,
        check_rv: bool = True,
    ) -> Obj:
        with self.lock:
            body = self._check_body(rtype, ns, body, name)
            current = self.raw(rtype.store_key, ns, name)
            if current is None:
                raise ApiError.not_found(rtype.group, rtype.resource, name)
            new = self._from_view(rtype, body)
            rv = new["metadata"].get("resourceVersion")
            if check_rv and rv and rv != current["metadata"]["resourceVersion"]:
                raise ApiError.conflict(rtype.group, rtype.resource, name)
            uid = new["metadata"].get("uid")
            if uid and uid != current["metadata"].get("uid"):
                raise ApiError.conflict(
                    rtype.group,
                    rtype.resource,
                    name,
                    f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
                    f"{current['metadata'].get('uid')}",
                )
            return self._replace(rtype, current, new, subresource=subresource, dry_run=dry_run)

    def _replace(
        self, rtype: ResourceType, current: Obj, new: Obj, *, subresource: str = "", dry_run: bool = False
    ) -> Obj:
        """Turn ``new`` (what the client sent, storage form) into the next state of ``current``."""
        if subresource == "status":
            result = copy.deepcopy(current)
            if "status" in new:
                result["status"] = new["status"]
            else:
                result.pop("status", None)
        else:
            result = new
            meta = result.setdefault("metadata", {})
            cur_meta = current["metadata"]
            for field in (
                "uid",
                "creationTimestamp",
                "namespace",
                "name",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
            ):
                if field in cur_meta:
                    meta[field] = cur_meta[field]
                else:
                    meta.pop(field, None)
            meta.pop("managedFields", None)
            if rtype.has_status:
                if "status" in current:
                    result["status"] = copy.deepcopy(current["status"])
                else:
                    result.pop("status", None)
            if rtype.store_key == ("", "namespaces"):
                # spec.finalizers is changed through the finalize subresource only
                result.setdefault("spec", {})["finalizers"] = (current.get("spec") or {}).get(
                    "finalizers", []
                )
            if rtype.store_key == ("", "services"):
                self._keep_service_allocations(current, result)
            apply_defaults(rtype, result)
            validate(rtype, result, current)
        result["apiVersion"], result["kind"] = current["apiVersion"], current["kind"]
        if dry_run:
            return self.view(rtype, result)
        if _same(current, result):
            return self.view(rtype, current)
        meta = result["metadata"]
        finalized = rtype.store_key != ("", "namespaces") or not (result.get("spec") or {}).get("finalizers")
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and finalized:
            self._internal_write(rtype, result, current)
            removed = self._internal_remove(rtype, meta.get("namespace", ""), meta["name"])
            self._collect_dependents(removed, "Background")
            self._drain()
            return self.view(rtype, removed or result)
        stored = self._internal_write(rtype, result, current)
        self._drain()
        return self.view(rtype, stored)

    @staticmethod
    def _keep_service_allocations(current: Obj, result: Obj) -> None:
        cur_spec = current.get("spec") or {}
        spec = result.setdefault("spec", {})
        for field in ("clusterIP", "clusterIPs"):
            if field in cur_spec and not spec.get(field):
                spec[field] = cur_spec[field]
        if "status" in current:
            result["status"] = current["status"]
        old_ports = {(p.get("port"), p.get("protocol", "TCP")): p for p in cur_spec.get("ports") or []}
        for port in spec.get("ports") or []:
            old = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
            if (
                old
                and "nodePort" in old
                and "nodePort" not in port
                and spec.get("type") in ("NodePort", "LoadBalancer")
            ):
                port["nodePort"] = old["nodePort"]

    def api_patch(
        self,
        rtype: ResourceType,
        ns: str,
        name: str,
        patch_type: str,
        body: Any,
        *,
        subresource: str = "",
        dry_run: bool = False,
        field_manager: str = "",
        force: bool = False,
    ) -> tuple[Obj, bool]:
        """Returns (object, created): an apply patch creates a missing object."""
        with self.lock:
            current = self.raw(rtype.store_key, ns, name)
            if patch_type == "apply":
                if not isinstance(body, dict):
                    raise ApiError.bad_request("apply patch must be an object")
                if not field_manager:
                    raise ApiError.bad_request(
                        "PATCH requests with apply content type require a fieldManager"
                    )
                config = self._from_view(rtype, body)
                meta = config.setdefault("metadata", {})
                if meta.get("name") and meta["name"] != name:
                    raise ApiError.bad_request("the name of the object does not match the name on the URL")
                if current is None:
                    if subresource:
                        raise ApiError.not_found(rtype.group, rtype.resource, name)
                    created = self.api_create(
                        rtype, ns, self.view(rtype, patches.apply_patch(None, config, None)), dry_run=dry_run
                    )
                    if not dry_run:
                        self._applied[(rtype.store_key, ns, name, field_manager)] = config
                    return created, True
                previous = self._applied.get((rtype.store_key, ns, name, field_manager))
                result = patches.apply_patch(current, config, previous)
                if not dry_run:
                    self._applied[(rtype.store_key, ns, name, field_manager)] = config
                return self._patched(rtype, current, result, subresource, dry_run), False
            if current is None:
                raise ApiError.not_found(rtype.group, rtype.resource, name)
            base = self.view(rtype, current)
            if patch_type == "json":
                result = patches.json_patch(base, body)
            elif patch_type == "merge":
                result = patches.json_merge_patch(base, body)
            elif patch_type == "strategic":
                result = patches.strategic_merge_patch(base, body)
            else:
                raise ApiError(415, "UnsupportedMediaType", f"the media type {patch_type} is not supported")
            if not isinstance(result, dict):
                raise ApiError.bad_request("the patch did not produce an object")
            result_meta = result.setdefault("metadata", {})
            if result_meta.get("name") != name:
                raise ApiError.bad_request(
                    "metadata.name: the name of an object cannot be changed by a patch"
                )
            rv = result_meta.get("resourceVersion")
            if rv and rv != current["metadata"]["resourceVersion"]:
                raise ApiError.conflict(rtype.group, rtype.resource, name)
            return self._patched(rtype, current, self._from_view(rtype, result), subresource, dry_run), False

    def _patched(
        self, rtype: ResourceType, current: Obj, result: Obj, subresource: str, dry_run: bool
    ) -> Obj:
        result.setdefault("metadata", {})["resourceVersion"] = current["metadata"]["resourceVersion"]
        return self._replace(rtype, current, result, subresource=subresource, dry_run=dry_run)

    # -- deletes --------------------------------------------------------------------------------

    def api_delete(
        self, rtype: ResourceType, ns: str, name: str, options: Obj, *, dry_run: bool = False
    ) -> tuple[Obj, bool]:
        """Returns (answer, deleted_now). The answer is the object or a Success Status."""
        with self.lock:
            obj = self.raw(rtype.store_key, ns if rtype.namespaced else "", name)
            if obj is None:
                raise ApiError.not_found(rtype.group, rtype.resource, name)
            pre = options.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != obj["metadata"].get("uid"):
                raise ApiError.conflict(
                    rtype.group,
                    rtype.resource,
                    name,
                    f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {obj['metadata'].get('uid')}",
                )
            if pre.get("resourceVersion") and pre["resourceVersion"] != obj["metadata"]["resourceVersion"]:
                raise ApiError.conflict(
                    rtype.group,
                    rtype.resource,
                    name,
                    f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                    f"ResourceVersion in object meta: {obj['metadata']['resourceVersion']}",
                )
            # Deleting a namespace that is already Terminating answers 200 with it, as kube-apiserver
            # v1.36 does (older servers answered 409); _delete_obj leaves it as it is.
            if rtype.store_key == ("", "namespaces") and name in PROTECTED_NAMESPACES[:3]:
                raise ApiError(
                    403,
                    "Forbidden",
                    f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                    {"name": name, "kind": "namespaces"},
                )
            if dry_run:
                return self.view(rtype, obj), False
            policy = options.get("propagationPolicy") or (
                "Orphan" if options.get("orphanDependents") else "Background"
            )
            answer, deleted = self._delete_obj(rtype, obj, policy)
            self._drain()
            return answer, deleted

    def _delete_obj(self, rtype: ResourceType, obj: Obj, policy: str) -> tuple[Obj, bool]:
        meta = obj["metadata"]
        ns, name = meta.get("namespace", ""), meta["name"]
        if rtype.store_key == ("", "namespaces") or meta.get("finalizers"):
            if meta.get("deletionTimestamp"):
                return self.view(rtype, obj), False
            new = copy.deepcopy(obj)
            new["metadata"]["deletionTimestamp"] = now_rfc3339()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            if rtype.store_key == ("", "namespaces"):
                new.setdefault("status", {})["phase"] = "Terminating"
            stored = self._internal_write(rtype, new, obj)
            return self.view(rtype, stored), False
        removed = self._internal_remove(rtype, ns, name)
        assert removed is not None
        self._collect_dependents(removed, policy)
        if rtype.store_key in (("", "pods"), ("", "namespaces")):
            return self.view(rtype, removed), True
        status: Obj = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {"name": name, "kind": rtype.resource, "uid": meta.get("uid")},
        }
        if rtype.group:
            status["details"]["group"] = rtype.group
        return status, True

    def _collect_dependents(self, owner: Obj | None, policy: str) -> None:
        """The garbage collector, run at once: dependents go (or lose their owner reference)."""
        if owner is None:
            return
        uid = owner["metadata"].get("uid")
        owner_ns = owner["metadata"].get("namespace")
        for key in list(self._objects):
            for (ns, _name), dep in list(self._objects.get(key, {}).items()):
                refs = dep["metadata"].get("ownerReferences") or []
                if not any(r.get("uid") == uid for r in refs):
                    continue
                if owner_ns and ns != owner_ns:
                    continue
                dtype = preferred(*key)
                assert dtype is not None
                if policy == "Orphan":
                    new = copy.deepcopy(dep)
                    new["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
                    if not new["metadata"]["ownerReferences"]:
                        del new["metadata"]["ownerReferences"]
                    self._internal_write(dtype, new, dep)
                elif len(refs) == 1 or all(self._owner_gone(r, ns) for r in refs if r.get("uid") != uid):
                    self._delete_obj(dtype, dep, "Background")

    def _owner_gone(self, ref: Obj, ns: str) -> bool:
        api_version = str(ref.get("apiVersion", ""))
        group = api_version.rpartition("/")[0]
        for rtype_key, objects in self._objects.items():
            if rtype_key[0] != group:
                continue
            for (ons, oname), obj in objects.items():
                if (
                    obj["metadata"].get("uid") == ref.get("uid")
                    and ons in ("", ns)
                    and oname == ref.get("name")
                ):
                    return False
        return True

    def api_delete_collection(
        self,
        rtype: ResourceType,
        ns: str | None,
        *,
        label_selector: str | None,
        field_selector: str | None,
        options: Obj,
        dry_run: bool = False,
    ) -> Obj:
        with self.lock:
            victims = self._select(rtype, ns, label_selector, field_selector)
            items = []
            for victim in victims:
                meta = victim["metadata"]
                try:
                    answer, _ = self.api_delete(
                        rtype, meta.get("namespace", ""), meta["name"], options, dry_run=dry_run
                    )
                except ApiError:
                    continue
                items.append(victim if answer.get("kind") == "Status" else answer)
            for item in items:
                item.pop("apiVersion", None)
                item.pop("kind", None)
            return {
                "kind": f"{rtype.kind}List",
                "apiVersion": rtype.api_version,
                "metadata": {"resourceVersion": str(self._rv)},
                "items": items,
            }

    # -- watch ----------------------------------------------------------------------------------

    def oldest_rv(self) -> int:
        with self.lock:
            return self._log[0].rv if self._log else self._rv

    @property
    def log_truncated(self) -> bool:
        return len(self._log) == self._log.maxlen

    def events_after(self, rv: int, key: StoreKey) -> tuple[builtins.list[WatchEvent], int]:
        """Events of one (group, resource) newer than ``rv``, and the newest rv seen."""
        with self.lock:
            out = []
            for event in reversed(self._log):
                if event.rv <= rv:
                    break
                if event.key == key:
                    out.append(event)
            out.reverse()
            return out, self._rv


def _same(a: Obj, b: Obj) -> bool:
    """Equal apart from resourceVersion."""
    a_meta = {k: v for k, v in a.get("metadata", {}).items() if k != "resourceVersion"}
    b_meta = {k: v for k, v in b.get("metadata", {}).items() if k != "resourceVersion"}
    return a_meta == b_meta and _spec_part(a) == _spec_part(b) and a.get("status") == b.get("status")
