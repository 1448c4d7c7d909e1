"""Minimal controllers, a scheduler and a kubelet, so workloads behave like workloads.

They run synchronously after each API write (``Store._drain``) and on a
background timer thread for what takes time (namespace termination, a pod
readiness delay, a Deployment's progress deadline).

* Deployment -> ReplicaSet (``pod-template-hash``) -> Pods, rolling over to a
  new ReplicaSet when the template changes; the old one is scaled down only
  once the new one is available, as ``maxUnavailable`` would allow.
* StatefulSet -> Pods ``<name>-<ordinal>`` (OrderedReady) and PVCs from
  ``volumeClaimTemplates``; DaemonSet -> one Pod on the one node; Job -> Pods
  until one succeeds or ``backoffLimit`` is passed.
* Pods are "run" by matching each container image against :class:`FailureRule`
  s: ``:crashloop`` gives CrashLoopBackOff (``:oomkill`` with OOMKilled), ``:missing``/``doesnotexist``
  ImagePullBackOff, ``:fail`` exit code 1 (a failed Job); a pod asking more CPU
  or memory than the node has stays Pending (Unschedulable). Events are
  recorded as the real components record them.
* Services get a cluster IP, node ports, a LoadBalancer hostname
  (``<name>.<ns>.lb.fakekube.test``) and Endpoints of their ready pods.
* Namespaces get the ``default`` ServiceAccount and ``kube-root-ca.crt``; a
  deleted namespace is Terminating for ``namespace_deletion_delay`` seconds,
  then its content is deleted and the namespace goes.
"""

from __future__ import annotations

import copy
import hashlib
import heapq
import itertools
import json
import math
import re
import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .jobprocess import JobProcesses, owned_by_job
from .resources import ResourceType, lookup
from .selectors import match_label_selector
from .store import Obj, Store, StoreKey, now_micro, now_rfc3339, random_suffix

if TYPE_CHECKING:
    from collections.abc import Sequence

NODE_NAME = "fakekube-node"
NODE_IP = "10.0.0.10"
HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


@dataclass
class FailureRule:
    """How a container fails when its image contains ``image_contains``.

    ``mode`` is one of:

    * ``crashloop`` - starts, exits 1, restarts: waiting CrashLoopBackOff, ``restart_count``
      restarts, pod Running but not ready; with restartPolicy Never the pod Fails.
    * ``imagepull`` - the image can't be pulled: waiting ImagePullBackOff, pod Pending,
      Warning events ``Failed``.
    * ``error`` - runs once and exits with ``exit_code``: a Job's pod Fails; under
      restartPolicy Always this is the same as ``crashloop``.
    * ``oomkilled`` - as ``crashloop``, but the kernel killed it at its memory limit: terminated
      reason ``OOMKilled``, exit code 137, as a real kubelet reports it (``:oomkill`` in an image
      name matches too).
    """

    image_contains: str
    mode: str = "crashloop"
    log: str = ""
    restart_count: int = 4
    exit_code: int = 1
    message: str = ""

    def matches(self, image: str) -> bool:
        return self.image_contains in image


@dataclass
class Outcome:
    """How a container's run goes: it can't be pulled, it exits (with a code), or it keeps running."""

    pull_fails: bool = False
    exit_code: int | None = None  # None: keeps running
    log: str | None = None  # None: FakeKube's default log line
    restart_count: int = 4
    message: str = ""
    running: bool = False  # a Job's local process that has not exited yet
    termination_message: str = ""  # what it wrote to /dev/termination-log
    reason: str = ""  # the terminated reason when it is not plain Error/Completed (OOMKilled)


_SHELLS = {"sh", "bash", "ash", "dash", "/bin/sh", "/bin/bash", "/bin/ash", "/usr/bin/env"}


def run_script(container: Obj) -> Outcome | None:
    """Play a container's ``sh -c`` script when it is only echo/printf/exit/true/sleep.

    ``["sh", "-c", "echo starting; echo oops; exit 3"]`` exits 3 having logged two
    lines, as it would in a real container. A ``sleep``, ``exec`` or any other
    command is taken as the long-running main process (it keeps running, logs so
    far kept). Anything that is not such a script gives None.
    """
    argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
    if argv[:1] == ["/usr/bin/env"]:
        argv = argv[1:]
    if len(argv) < 3 or argv[0] not in _SHELLS or not argv[1].startswith("-") or "c" not in argv[1]:
        return None
    lines: list[str] = []

    def result(code: int | None) -> Outcome:
        return Outcome(exit_code=code, log="".join(f"{line}\n" for line in lines) if lines else None)

    for raw_line in argv[2].splitlines():
        lexer = shlex.shlex(raw_line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        try:
            tokens = list(lexer)
        except ValueError:
            return None
        statements: list[list[str]] = [[]]
        for token in tokens:
            if token in (";", "&&", "||", "&"):
                statements.append([])
            else:
                statements[-1].append(token)
        for words in statements:
            if not words or words[0] in ("true", ":", "set", "false"):
                continue
            if words[0] in ("echo", "printf"):
                text = [w for w in words[1:] if w not in ("-n", "-e")]
                lines.append(" ".join(text).replace("\\n", "\n").rstrip("\n"))
                continue
            if words[0] == "exit":
                try:
                    return result(int(words[1]) if len(words) > 1 else 0)
                except ValueError:
                    return result(1)
            return result(None)  # sleep, exec, a server: the main process runs
    return result(0)


def default_failure_rules() -> list[FailureRule]:
    return [
        FailureRule(
            ":crashloop",
            "crashloop",
            log="fakekube: starting\nError: cannot connect to database at db:5432: connection refused\n",
        ),
        FailureRule(":missing", "imagepull"),
        FailureRule("doesnotexist", "imagepull"),
        FailureRule(":fail", "error", log="fakekube: running job\nError: migration failed\n"),
        FailureRule(":oomkill", "oomkilled", log="filling memory\n", exit_code=137),  # and :oomkilled
    ]


_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")
_SUFFIX = {
    "": 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
    "n": 1e-9,
    "u": 1e-6,
}


def parse_quantity(value: Any) -> float:
    match = _QUANTITY.match(str(value).strip())
    if not match or match.group(2) not in _SUFFIX:
        return 0.0
    return float(match.group(1)) * _SUFFIX[match.group(2)]


def template_hash(template: Any, length: int = 10) -> str:
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(HASH_ALPHABET[b % len(HASH_ALPHABET)] for b in digest[:length])


def _owner_ref(owner: Obj, *, controller: bool = True) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def _controller_uid(obj: Obj) -> str | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


def _condition(
    status_obj: Obj, ctype: str, status: str, reason: str, message: str, *, probe_times: bool = False
) -> None:
    """Set a condition, keeping lastTransitionTime when the status did not change."""
    conditions = status_obj.setdefault("conditions", [])
    now = now_rfc3339()
    for cond in conditions:
        if cond.get("type") == ctype:
            if cond.get("status") != status:
                cond["lastTransitionTime"] = now
            if (cond.get("reason") != reason or cond.get("message") != message) and "lastUpdateTime" in cond:
                cond["lastUpdateTime"] = now
            cond.update({"status": status, "reason": reason, "message": message})
            return
    new: Obj = {"type": ctype, "status": status}
    if probe_times:
        new["lastUpdateTime"] = now
    new.update({"lastTransitionTime": now, "reason": reason, "message": message})
    conditions.append(new)


def _get_condition(obj: Obj, ctype: str) -> Obj | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return dict(cond)
    return None


def _pod_ready(pod: Obj) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    cond = _get_condition(pod, "Ready")
    return bool(cond and cond.get("status") == "True")


def _fenceposts(deployment: Obj) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as replica counts, rounded the way the controller rounds them."""
    spec = deployment["spec"]
    replicas = int(spec.get("replicas", 1))
    strategy = spec.get("strategy") or {}
    if strategy.get("type") != "RollingUpdate":
        return 0, replicas

    def resolve(value: Any, default: str, round_up: bool) -> int:
        value = default if value is None else value
        if isinstance(value, str) and value.endswith("%"):
            exact = replicas * int(value[:-1]) / 100
            return math.ceil(exact) if round_up else math.floor(exact)
        return int(value)

    rolling = strategy.get("rollingUpdate") or {}
    surge = resolve(rolling.get("maxSurge"), "25%", True)
    unavailable = resolve(rolling.get("maxUnavailable"), "25%", False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, replicas)


def _revision(rs: Obj) -> int:
    return int((rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0"))


class Controllers:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.failure_rules: list[FailureRule] = default_failure_rules()
        self.namespace_deletion_delay = 0.3
        self.ready_delay = 0.0
        self.node_allocatable: dict[str, str] = {"cpu": "64", "memory": "256Gi", "pods": "110"}
        self.default_log = "fakekube: {container} ({image}) started in pod {pod}\nlistening\n"
        self.job_processes: JobProcesses | None = None  # set: Jobs run their command locally
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._ran: set[str] = set()  # pod uids the kubelet has started
        self._namespaces_seen: set[str] = set()
        self._terminating: set[str] = set()
        self._next_ip = itertools.count(10)
        self._next_pod_ip = itertools.count(2)
        self._next_node_port = itertools.count(30000)
        self._used_ips: set[str] = set()
        self._used_node_ports: set[int] = set()
        self._deadline_timers: set[tuple[str, str, float]] = set()
        self._rollout_started: dict[tuple[str, int, str], float] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        store.reconcile = self.reconcile
        store.on_create = self.on_create

    # -- timer thread ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fakekube-controllers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def after(self, delay: float, callback: Callable[[], None]) -> None:
        with self.store.lock:
            heapq.heappush(self._timers, (time.monotonic() + delay, next(self._seq), callback))
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self.store.lock:
                due = self._timers[0][0] if self._timers else None
            timeout = 0.5 if due is None else max(0.0, due - time.monotonic())
            self._wake.wait(timeout=min(timeout, 0.5))
            self._wake.clear()
            self.run_due()

    def run_due(self) -> None:
        with self.store.lock:
            while self._timers and self._timers[0][0] <= time.monotonic():
                _, _, callback = heapq.heappop(self._timers)
                try:
                    callback()
                    self.store._drain()
                except Exception:  # a controller bug must not kill the thread
                    import traceback

                    traceback.print_exc()
                    self.store._queue.clear()

    # -- creation hooks (allocation, initial status) ----------------------------------------------

    def on_create(self, rtype: ResourceType, obj: Obj) -> None:
        key = rtype.store_key
        if key == ("", "namespaces"):
            obj["status"] = {"phase": "Active"}
        elif key == ("", "pods"):
            obj["status"] = {"phase": "Pending", "qosClass": self._qos(obj)}
        elif key == ("", "persistentvolumeclaims"):
            obj["status"] = {"phase": "Pending"}
        elif key == ("", "services"):
            self._allocate_service(obj)
            obj["status"] = {"loadBalancer": {}}

    @staticmethod
    def _qos(pod: Obj) -> str:
        containers = (pod.get("spec") or {}).get("containers") or []
        requests = [((c.get("resources") or {}).get("requests") or {}) for c in containers]
        limits = [((c.get("resources") or {}).get("limits") or {}) for c in containers]
        if not any(requests) and not any(limits):
            return "BestEffort"
        if all(
            lim.get("cpu") and lim.get("memory") and req == lim
            for req, lim in zip(requests, limits, strict=True)
        ):
            return "Guaranteed"
        return "Burstable"

    def _allocate_service(self, svc: Obj) -> None:
        spec = svc.setdefault("spec", {})
        if spec.get("type") == "ExternalName":
            return
        ip = spec.get("clusterIP")
        if ip and ip != "None":
            if ip in self._used_ips:
                raise ApiError.invalid(
                    "",
                    "Service",
                    svc["metadata"]["name"],
                    [
                        (
                            "spec.clusterIPs",
                            f'Invalid value: []string{{"{ip}"}}: failed to allocate IP {ip}: provided IP is already allocated',
                        )
                    ],
                )
        elif ip != "None":
            while True:
                n = next(self._next_ip)
                ip = f"10.96.{n // 254}.{n % 254 + 1}"
                if ip not in self._used_ips:
                    break
            spec["clusterIP"] = ip
        if ip and ip != "None":
            self._used_ips.add(ip)
        spec["clusterIPs"] = [spec["clusterIP"]]
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            for port in spec.get("ports") or []:
                if not port.get("nodePort"):
                    n = next(self._next_node_port)
                    while n in self._used_node_ports:
                        n = next(self._next_node_port)
                    port["nodePort"] = n
                self._used_node_ports.add(int(port["nodePort"]))

    # -- dispatch -------------------------------------------------------------------------------

    def reconcile(self, key: StoreKey, ns: str, name: str) -> None:
        obj = self.store.raw(key, ns, name)
        if key == ("", "namespaces"):
            self._namespace(name, obj)
            return
        if key == ("", "pods"):
            if obj is not None:
                self._kubelet(obj)
            self._sync_endpoints(ns)
            self._requeue_owners(ns, obj)
        elif obj is None:
            if key == ("", "services"):
                self._service_gone(ns, name)
            return
        elif key == ("apps", "deployments"):
            self._deployment(obj)
        elif key == ("apps", "replicasets"):
            self._replicaset(obj)
            self._requeue_owners(ns, obj)
        elif key == ("apps", "statefulsets"):
            self._statefulset(obj)
        elif key == ("apps", "daemonsets"):
            self._daemonset(obj)
        elif key == ("batch", "jobs"):
            self._job(obj)
        elif key == ("", "services"):
            self._service(obj)
        elif key == ("", "persistentvolumeclaims"):
            self._pvc(obj)

    def _requeue_owners(self, ns: str, obj: Obj | None) -> None:
        if obj is None:
            # a pod went away: every controller in the namespace re-counts (cheap at test sizes)
            for key in (
                ("apps", "replicasets"),
                ("apps", "statefulsets"),
                ("apps", "daemonsets"),
                ("batch", "jobs"),
            ):
                for owner in self.store.raw_list(key, ns):
                    self.store._queue.append((key, ns, owner["metadata"]["name"]))
            return
        for ref in obj["metadata"].get("ownerReferences") or []:
            group = str(ref.get("apiVersion", "")).rpartition("/")[0]
            for key in (
                (group, "replicasets"),
                (group, "statefulsets"),
                (group, "daemonsets"),
                (group, "jobs"),
                (group, "deployments"),
            ):
                found = self.store.raw(key, ns, ref.get("name", ""))
                if found is not None and found["kind"] == ref.get("kind"):
                    self.store._queue.append((key, ns, ref["name"]))

    def _update_status(self, obj: Obj, status: Obj) -> None:
        if obj.get("status") == status:
            return
        new = copy.deepcopy(obj)
        new["status"] = status
        self.store.write(new)

    def _create(self, resource: tuple[str, str, str], ns: str, body: Obj) -> Obj | None:
        rtype = lookup(*resource)
        assert rtype is not None
        try:
            return self.store.api_create(rtype, ns, body)
        except ApiError:
            return None  # namespace terminating or gone, name taken: a real controller retries later

    # -- events ---------------------------------------------------------------------------------

    def record(self, involved: Obj, etype: str, reason: str, message: str, component: str) -> None:
        ns = involved["metadata"].get("namespace") or "default"
        namespace = self.store.raw(("", "namespaces"), "", ns)
        if namespace is None or namespace["metadata"].get("deletionTimestamp"):
            return
        uid = involved["metadata"].get("uid")
        for event in self.store.raw_list(("", "events"), ns):
            if (
                (event.get("involvedObject") or {}).get("uid") == uid
                and event.get("reason") == reason
                and event.get("message") == message
            ):
                new = copy.deepcopy(event)
                if new.get("eventTime"):
                    series = new.setdefault("series", {"count": 1})
                    series["count"] = int(series.get("count", 1)) + 1
                    series["lastObservedTime"] = now_micro()
                else:
                    new["count"] = int(new.get("count", 1)) + 1
                    new["lastTimestamp"] = now_rfc3339()
                self.store.write(new)
                return
        host = NODE_NAME if component == "kubelet" else ""
        body: Obj = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{involved['metadata']['name']}.{time.time_ns():x}", "namespace": ns},
            "involvedObject": {
                "apiVersion": involved.get("apiVersion", "v1"),
                "kind": involved.get("kind", ""),
                "name": involved["metadata"]["name"],
                "namespace": ns,
                "uid": uid,
                "resourceVersion": involved["metadata"].get("resourceVersion", ""),
            },
            "reason": reason,
            "message": message,
            "type": etype,
        }
        if component == "default-scheduler":
            # the scheduler records through events.k8s.io/v1: eventTime, no count/first/lastTimestamp
            body.update(
                {
                    "source": {},
                    "firstTimestamp": None,
                    "lastTimestamp": None,
                    "eventTime": now_micro(),
                    "action": "Scheduling",
                    "reportingComponent": component,
                    "reportingInstance": f"{component}-{NODE_NAME}",
                }
            )
        else:
            body.update(
                {
                    "source": {"component": component, **({"host": host} if host else {})},
                    "firstTimestamp": now_rfc3339(),
                    "lastTimestamp": now_rfc3339(),
                    "count": 1,
                    "eventTime": None,
                    "reportingComponent": component,
                    "reportingInstance": host,
                }
            )
        self._create(("", "v1", "events"), ns, body)

    # -- namespaces -----------------------------------------------------------------------------

    def _namespace(self, name: str, ns_obj: Obj | None) -> None:
        if ns_obj is None:
            self._namespaces_seen.discard(name)
            self._terminating.discard(name)
            return
        uid = ns_obj["metadata"]["uid"]
        if ns_obj["metadata"].get("deletionTimestamp"):
            if uid not in self._terminating:
                self._terminating.add(uid)
                self.after(self.namespace_deletion_delay, lambda: self._finalize_namespace(name, uid))
            return
        if uid in self._namespaces_seen:
            return
        self._namespaces_seen.add(uid)
        if self.store.raw(("", "serviceaccounts"), name, "default") is None:
            self._create(("", "v1", "serviceaccounts"), name, {"metadata": {"name": "default"}})
        if self.store.raw(("", "configmaps"), name, "kube-root-ca.crt") is None:
            self._create(
                ("", "v1", "configmaps"),
                name,
                {
                    "metadata": {
                        "name": "kube-root-ca.crt",
                        "annotations": {"kubernetes.io/description": "Contains a CA bundle for the cluster."},
                    },
                    "data": {
                        "ca.crt": "-----BEGIN CERTIFICATE-----\nZmFrZWt1YmU=\n-----END CERTIFICATE-----\n"
                    },
                },
            )

    def _finalize_namespace(self, name: str, uid: str) -> None:
        ns_obj = self.store.raw(("", "namespaces"), "", name)
        if ns_obj is None or ns_obj["metadata"]["uid"] != uid:
            return
        remaining = 0
        held: dict[str, int] = {}  # finalizer -> objects it holds, as the real controller counts them
        for key in list(self.store._objects):
            rtype = lookup(key[0], *self._version_resource(key))
            if rtype is None or not rtype.namespaced:
                continue
            for obj in list(self.store.raw_list(key, name)):
                if self.store.raw(key, name, obj["metadata"]["name"]) is None:
                    continue  # collected with its owner already
                self.store.remove(key, name, obj["metadata"]["name"])
                left = self.store.raw(key, name, obj["metadata"]["name"])
                if left is not None:
                    remaining += 1
                    for finalizer in left["metadata"].get("finalizers") or []:
                        held[finalizer] = held.get(finalizer, 0) + 1
        new = copy.deepcopy(self.store.raw(("", "namespaces"), "", name))
        assert new is not None
        status = new.setdefault("status", {})
        _condition(
            status,
            "NamespaceDeletionDiscoveryFailure",
            "False",
            "ResourcesDiscovered",
            "All resources successfully discovered",
        )
        _condition(
            status,
            "NamespaceDeletionGroupVersionParsingFailure",
            "False",
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
        )
        _condition(
            status,
            "NamespaceDeletionContentFailure",
            "False",
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization",
        )
        if remaining:
            _condition(
                status,
                "NamespaceContentRemaining",
                "True",
                "SomeResourcesRemain",
                f"Some resources are remaining: {remaining} objects have finalizers",
            )
            _condition(
                status,
                "NamespaceFinalizersRemaining",
                "True",
                "SomeFinalizersRemain",
                "Some content in the namespace has finalizers remaining: "
                + ", ".join(f"{f} in {n} resource instances" for f, n in sorted(held.items())),
            )
            self.store.write(new)
            self.after(0.1, lambda: self._finalize_namespace(name, uid))
            return
        _condition(
            status, "NamespaceContentRemaining", "False", "ContentRemoved", "All content successfully removed"
        )
        _condition(
            status,
            "NamespaceFinalizersRemaining",
            "False",
            "ContentHasNoFinalizers",
            "All content-preserving finalizers finished",
        )
        new.setdefault("spec", {})["finalizers"] = []
        self.store.write(new)
        if new["metadata"].get("finalizers"):
            return  # stays Terminating until whoever set metadata.finalizers removes them
        rtype = lookup("", "v1", "namespaces")
        assert rtype is not None
        self.store._internal_remove(rtype, "", name)

    @staticmethod
    def _version_resource(key: StoreKey) -> tuple[str, str]:
        from .resources import GROUP_VERSIONS

        return (GROUP_VERSIONS[key[0]][0], key[1])

    # -- services, endpoints, PVCs --------------------------------------------------------------

    def _service(self, svc: Obj) -> None:
        spec = svc.get("spec") or {}
        if spec.get("type") == "LoadBalancer":
            status = copy.deepcopy(svc.get("status") or {})
            if not (status.get("loadBalancer") or {}).get("ingress"):
                meta = svc["metadata"]
                status["loadBalancer"] = {
                    "ingress": [{"hostname": f"{meta['name']}.{meta['namespace']}.lb.fakekube.test"}]
                }
                self._update_status(svc, status)
        self._sync_endpoints(svc["metadata"]["namespace"])

    def _service_gone(self, ns: str, name: str) -> None:
        if self.store.raw(("", "endpoints"), ns, name) is not None:
            self.store.remove(("", "endpoints"), ns, name)

    def _sync_endpoints(self, ns: str) -> None:
        pods = [p for p in self.store.raw_list(("", "pods"), ns) if (p.get("status") or {}).get("podIP")]
        for svc in self.store.raw_list(("", "services"), ns):
            selector = (svc.get("spec") or {}).get("selector")
            if not selector or svc["metadata"].get("deletionTimestamp"):
                continue
            chosen = [
                p
                for p in pods
                if match_label_selector({"matchLabels": selector}, p["metadata"].get("labels") or {})
            ]
            ready = [self._address(p) for p in chosen if _pod_ready(p)]
            not_ready = [self._address(p) for p in chosen if not _pod_ready(p)]
            ports = []
            for port in svc["spec"].get("ports") or []:
                target = port.get("targetPort", port.get("port"))
                entry: Obj = {
                    "port": target if isinstance(target, int) else port.get("port"),
                    "protocol": port.get("protocol", "TCP"),
                }
                if port.get("name"):
                    entry["name"] = port["name"]
                ports.append(entry)
            subsets = []
            if ready or not_ready:
                subset: Obj = {"ports": ports}
                if ready:
                    subset["addresses"] = ready
                if not_ready:
                    subset["notReadyAddresses"] = not_ready
                subsets.append(subset)
            name = svc["metadata"]["name"]
            current = self.store.raw(("", "endpoints"), ns, name)
            labels = dict(svc["metadata"].get("labels") or {})
            if current is None:
                body: Obj = {"metadata": {"name": name, "labels": labels}}
                if subsets:
                    body["subsets"] = subsets
                self._create(("", "v1", "endpoints"), ns, body)
            elif current.get("subsets", []) != subsets:
                new = copy.deepcopy(current)
                new["subsets"] = subsets
                if not subsets:
                    new.pop("subsets")
                self.store.write(new)

    @staticmethod
    def _address(pod: Obj) -> Obj:
        return {
            "ip": pod["status"]["podIP"],
            "nodeName": NODE_NAME,
            "targetRef": {
                "kind": "Pod",
                "namespace": pod["metadata"]["namespace"],
                "name": pod["metadata"]["name"],
                "uid": pod["metadata"]["uid"],
            },
        }

    def _pvc(self, pvc: Obj) -> None:
        if (pvc.get("status") or {}).get("phase") == "Bound" or pvc["metadata"].get("deletionTimestamp"):
            return
        new = copy.deepcopy(pvc)
        spec = new.setdefault("spec", {})
        spec.setdefault("volumeName", f"pvc-{pvc['metadata']['uid']}")
        spec.setdefault("storageClassName", "standard")
        requests = (spec.get("resources") or {}).get("requests") or {}
        new["status"] = {
            "phase": "Bound",
            "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
            "capacity": {"storage": requests.get("storage", "1Gi")},
        }
        annotations = new["metadata"].setdefault("annotations", {})
        annotations.setdefault("pv.kubernetes.io/bind-completed", "yes")
        annotations.setdefault("pv.kubernetes.io/bound-by-controller", "yes")
        self.store.write(new)

    # -- pods: scheduler + kubelet ----------------------------------------------------------------

    def _rule_for(self, image: str) -> FailureRule | None:
        for rule in self.failure_rules:
            if rule.matches(image):
                return rule
        return None

    def outcome(self, container: Obj, pod: Obj | None = None) -> Outcome:
        """What running this container does: the failure rules first, then its ``sh -c`` script.

        With ``job_processes`` set, a Job's container really runs (see jobprocess).
        """
        if self.job_processes is not None and pod is not None and owned_by_job(pod):
            return self._job_process_outcome(pod, container)
        image = str(container.get("image", ""))
        rule = self._rule_for(image)
        if rule is not None and rule.mode == "imagepull":
            return Outcome(pull_fails=True, message=rule.message)
        if rule is not None and rule.mode == "oomkilled":
            return Outcome(
                exit_code=rule.exit_code, log=rule.log, restart_count=rule.restart_count, reason="OOMKilled"
            )
        script = run_script(container)
        if script is not None and script.exit_code is not None:
            return Outcome(
                exit_code=script.exit_code,
                log=script.log,
                restart_count=rule.restart_count if rule else 4,
                message=rule.message if rule else "",
            )
        if rule is not None and rule.mode in ("crashloop", "error"):
            log = script.log if script is not None and script.log else rule.log or None
            return Outcome(
                exit_code=rule.exit_code, log=log, restart_count=rule.restart_count, message=rule.message
            )
        return Outcome(log=script.log if script is not None and script.log else None)

    def _job_process_outcome(self, pod: Obj, container: Obj) -> Outcome:
        assert self.job_processes is not None
        meta = pod["metadata"]
        ns, name, uid = meta["namespace"], meta["name"], meta["uid"]

        def finished() -> None:
            def update() -> None:
                current = self.store.raw(("", "pods"), ns, name)
                if current is not None and current["metadata"]["uid"] == uid:
                    self._set_pod_status(current, starting=False)

            self.after(0, update)

        result = self.job_processes.result(
            pod,
            container,
            read_secret=lambda namespace, secret: self.store.raw(("", "secrets"), namespace, secret),
            done=finished,
        )
        if result is None:
            return Outcome(log="", running=True)
        code, log, message = result
        return Outcome(exit_code=code, log=log, restart_count=0, termination_message=message)

    def _unschedulable(self, pod: Obj) -> str | None:
        short: list[str] = []
        for resource in ("cpu", "memory"):
            wanted = 0.0
            for container in (pod.get("spec") or {}).get("containers") or []:
                requests = (container.get("resources") or {}).get("requests") or {}
                wanted += parse_quantity(requests.get(resource, 0))
            if wanted > parse_quantity(self.node_allocatable.get(resource, "0")):
                short.append(resource)
        if not short:
            return None
        return "0/1 nodes are available: " + ", ".join(f"1 Insufficient {r}" for r in short) + "."

    def _kubelet(self, pod: Obj) -> None:
        uid = pod["metadata"]["uid"]
        if uid in self._ran or pod["metadata"].get("deletionTimestamp"):
            return
        spec = pod.get("spec") or {}
        if not spec.get("nodeName"):
            reason = self._unschedulable(pod)
            if reason:
                status = copy.deepcopy(pod.get("status") or {})
                if (_get_condition(pod, "PodScheduled") or {}).get("reason") != "Unschedulable":
                    status["phase"] = "Pending"
                    _condition(status, "PodScheduled", "False", "Unschedulable", reason)
                    for cond in status["conditions"]:
                        cond.pop("lastProbeTime", None)
                        cond["lastProbeTime"] = None
                    self._update_status(pod, status)
                    self.record(pod, "Warning", "FailedScheduling", reason, "default-scheduler")
                return
            new = copy.deepcopy(pod)
            new["spec"]["nodeName"] = NODE_NAME
            status = new.setdefault("status", {})
            _condition(status, "PodScheduled", "True", "", "")
            _strip_empty(status)
            self.store.write(new)
            meta = pod["metadata"]
            self.record(
                pod,
                "Normal",
                "Scheduled",
                f"Successfully assigned {meta['namespace']}/{meta['name']} to {NODE_NAME}",
                "default-scheduler",
            )
            pod = self.store.raw(("", "pods"), meta["namespace"], meta["name"]) or pod
        self._ran.add(uid)
        if self.ready_delay > 0:
            self._set_pod_status(pod, starting=True)
            ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]

            def later() -> None:
                current = self.store.raw(("", "pods"), ns, name)
                if current is not None and current["metadata"]["uid"] == uid:
                    self._set_pod_status(current, starting=False)

            self.after(self.ready_delay, later)
        else:
            self._set_pod_status(pod, starting=False)

    def _set_pod_status(self, pod: Obj, *, starting: bool) -> None:
        spec = pod.get("spec") or {}
        meta = pod["metadata"]
        restart_policy = spec.get("restartPolicy", "Always")
        status = copy.deepcopy(pod.get("status") or {})
        started = now_rfc3339()
        status.setdefault("startTime", started)
        status["hostIP"] = NODE_IP
        status["hostIPs"] = [{"ip": NODE_IP}]
        if not status.get("podIP"):
            n = next(self._next_pod_ip)
            status["podIP"] = f"10.244.{n // 254}.{n % 254 + 1}"
            status["podIPs"] = [{"ip": status["podIP"]}]
        status.setdefault("qosClass", "BestEffort")
        init_statuses = []
        for container in spec.get("initContainers") or []:
            init_statuses.append(
                {
                    "name": container["name"],
                    "image": container.get("image", ""),
                    "imageID": f"{container.get('image', '')}@sha256:{hashlib.sha256(str(container.get('image')).encode()).hexdigest()}",
                    "containerID": f"containerd://{hashlib.sha256((meta['uid'] + container['name']).encode()).hexdigest()}",
                    "ready": True,
                    "restartCount": 0,
                    "started": False,
                    "state": {
                        "terminated": {
                            "exitCode": 0,
                            "reason": "Completed",
                            "startedAt": started,
                            "finishedAt": started,
                        }
                    },
                }
            )
        statuses = []
        events: list[tuple[str, str, str]] = []
        pending_pull = False
        all_ready = not starting
        failed = False
        succeeded = restart_policy != "Always"
        for container in spec.get("containers") or []:
            cname, image = container["name"], container.get("image", "")
            cstatus: Obj = {
                "name": cname,
                "image": image,
                "imageID": "",
                "ready": False,
                "restartCount": 0,
                "started": False,
            }
            container_id = f"containerd://{hashlib.sha256((meta['uid'] + cname).encode()).hexdigest()}"
            outcome = self.outcome(container, pod)
            if starting:
                cstatus["state"] = {"waiting": {"reason": "ContainerCreating"}}
                succeeded = False
            elif outcome.pull_fails:
                pending_pull = True
                all_ready = False
                succeeded = False
                message = outcome.message or f'Back-off pulling image "{image}"'
                cstatus["state"] = {"waiting": {"reason": "ImagePullBackOff", "message": message}}
                pull_error = (
                    f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and unpack '
                    f'image "{_docker_ref(image)}": failed to resolve reference "{_docker_ref(image)}": '
                    f"{_docker_ref(image)}: not found"
                )
                events += [
                    ("Normal", "Pulling", f'Pulling image "{image}"'),
                    ("Warning", "Failed", pull_error),
                    ("Warning", "Failed", "Error: ErrImagePull"),
                    ("Normal", "BackOff", message),
                    ("Warning", "Failed", "Error: ImagePullBackOff"),
                ]
            elif outcome.exit_code is not None and (outcome.exit_code != 0 or restart_policy == "Always"):
                # it exits and is restarted (Always, OnFailure) or has failed for good (Never)
                all_ready = False
                succeeded = False
                cstatus["imageID"] = _image_id(image)
                cstatus["containerID"] = container_id
                terminated = {
                    "exitCode": outcome.exit_code,
                    "reason": outcome.reason or ("Error" if outcome.exit_code else "Completed"),
                    "startedAt": started,
                    "finishedAt": started,
                    "containerID": container_id,
                    **({"message": outcome.termination_message} if outcome.termination_message else {}),
                }
                events += [
                    ("Normal", "Pulled", f'Container image "{image}" already present on machine'),
                    ("Normal", "Created", f"Created container: {cname}"),
                    ("Normal", "Started", f"Started container {cname}"),
                ]
                if restart_policy != "Always":
                    failed = True
                    cstatus["state"] = {"terminated": terminated}
                else:
                    message = outcome.message or (
                        f"back-off 40s restarting failed container={cname} pod={meta['name']}_{meta['namespace']}"
                        f"({meta['uid']})"
                    )
                    cstatus["restartCount"] = outcome.restart_count
                    cstatus["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": message}}
                    cstatus["lastState"] = {"terminated": terminated}
                    events.append(
                        (
                            "Warning",
                            "BackOff",
                            f"Back-off restarting failed container {cname} in pod "
                            f"{meta['name']}_{meta['namespace']}({meta['uid']})",
                        )
                    )
            else:
                cstatus["imageID"] = _image_id(image)
                cstatus["containerID"] = container_id
                cstatus["started"] = True
                if restart_policy != "Always" and not outcome.running:
                    cstatus["state"] = {
                        "terminated": {
                            "exitCode": 0,
                            "reason": "Completed",
                            "startedAt": started,
                            "finishedAt": started,
                            "containerID": container_id,
                            **(
                                {"message": outcome.termination_message}
                                if outcome.termination_message
                                else {}
                            ),
                        }
                    }
                    cstatus["started"] = False
                else:
                    cstatus["ready"] = True
                    cstatus["state"] = {"running": {"startedAt": started}}
                    succeeded = succeeded and not outcome.running
                events += [
                    ("Normal", "Pulled", f'Container image "{image}" already present on machine'),
                    ("Normal", "Created", f"Created container: {cname}"),
                    ("Normal", "Started", f"Started container {cname}"),
                ]
            statuses.append(cstatus)
        if starting or pending_pull:
            phase = "Pending"
        elif failed:
            phase = "Failed"
        elif succeeded:
            phase = "Succeeded"
        else:
            phase = "Running"
        status["phase"] = phase
        status["containerStatuses"] = statuses
        if init_statuses:
            status["initContainerStatuses"] = init_statuses
        if phase in ("Succeeded", "Failed"):
            ready_status, reason = "False", "PodCompleted"
        elif all_ready:
            ready_status, reason = "True", ""
        else:
            ready_status, reason = "False", "ContainersNotReady"
        not_ready = [c["name"] for c in statuses if not c["ready"]]
        message = (
            f"containers with unready status: [{' '.join(not_ready)}]"
            if reason == "ContainersNotReady"
            else ""
        )
        _condition(status, "PodReadyToStartContainers", "False" if starting else "True", "", "")
        _condition(status, "Initialized", "True", "", "")
        _condition(status, "Ready", ready_status, reason, message)
        _condition(status, "ContainersReady", ready_status, reason, message)
        _condition(status, "PodScheduled", "True", "", "")
        order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
        status["conditions"].sort(key=lambda c: order.index(c["type"]) if c["type"] in order else 99)
        for cond in status["conditions"]:
            cond["lastProbeTime"] = None
        _strip_empty(status)
        self._update_status(pod, status)
        if not starting:
            for etype, reason_text, text in events:
                self.record(pod, etype, reason_text, text, "kubelet")

    def pod_log(self, pod: Obj, container: str | None, tail_lines: int | None, previous: bool) -> str:
        meta = pod["metadata"]
        containers = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
        init = [c["name"] for c in (pod.get("spec") or {}).get("initContainers") or []]
        if not container:
            if len(containers) != 1:
                raise ApiError.bad_request(
                    f"a container name must be specified for pod {meta['name']}, choose one of: [{' '.join(containers)}]"
                    + (f" or one of the init containers: [{' '.join(init)}]" if init else "")
                )
            container = containers[0]
        if container not in containers + init:
            raise ApiError.bad_request(f"container {container} is not valid for pod {meta['name']}")
        spec_c = next(
            c
            for c in (pod["spec"].get("containers") or []) + (pod["spec"].get("initContainers") or [])
            if c["name"] == container
        )
        cstatus = next(
            (
                c
                for c in (pod.get("status") or {}).get("containerStatuses") or []
                if c.get("name") == container
            ),
            None,
        )
        waiting = ((cstatus or {}).get("state") or {}).get("waiting") or {}
        image = str(spec_c.get("image", ""))
        outcome = self.outcome(spec_c, pod)
        if cstatus is None or waiting.get("reason") in (
            "ContainerCreating",
            "ImagePullBackOff",
            "ErrImagePull",
        ):
            if waiting.get("reason") in ("ImagePullBackOff", "ErrImagePull"):
                why = "trying and failing to pull image"
            else:
                why = "ContainerCreating"
            raise ApiError.bad_request(
                f'container "{container}" in pod "{meta["name"]}" is waiting to start: {why}'
            )
        if previous and not (cstatus.get("lastState") or {}).get("terminated"):
            raise ApiError.bad_request(
                f'previous terminated container "{container}" in pod "{meta["name"]}" not found'
            )
        text = outcome.log
        if text is None:
            text = self.default_log.format(
                container=container, image=image, pod=meta["name"], namespace=meta.get("namespace", "")
            )
        if tail_lines is not None:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-tail_lines:]) if tail_lines > 0 else ""
        return text

    # -- workloads ------------------------------------------------------------------------------

    def _owned(self, key: StoreKey, owner: Obj) -> list[Obj]:
        uid = owner["metadata"]["uid"]
        return [
            o for o in self.store.raw_list(key, owner["metadata"]["namespace"]) if _controller_uid(o) == uid
        ]

    def _new_pod(self, owner: Obj, template: Obj, name: str, extra_labels: dict[str, str]) -> Obj | None:
        tmeta = template.get("metadata") or {}
        body: Obj = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "labels": {**(tmeta.get("labels") or {}), **extra_labels},
                "ownerReferences": [_owner_ref(owner)],
            },
            "spec": copy.deepcopy(template.get("spec") or {}),
        }
        if tmeta.get("annotations"):
            body["metadata"]["annotations"] = dict(tmeta["annotations"])
        return self._create(("", "v1", "pods"), owner["metadata"]["namespace"], body)

    def _replicaset(self, rs: Obj) -> None:
        if rs["metadata"].get("deletionTimestamp"):
            return
        spec = rs["spec"]
        desired = int(spec.get("replicas", 1))
        pods = [p for p in self._owned(("", "pods"), rs) if not p["metadata"].get("deletionTimestamp")]
        ns = rs["metadata"]["namespace"]
        while len(pods) < desired:
            pod = self._new_pod(
                rs, spec.get("template") or {}, f"{rs['metadata']['name']}-{random_suffix()}", {}
            )
            if pod is None:
                break
            self.record(
                rs,
                "Normal",
                "SuccessfulCreate",
                f"Created pod: {pod['metadata']['name']}",
                "replicaset-controller",
            )
            pods.append(pod)
        if len(pods) > desired:
            # not-ready pods go first, then the newest
            pods.sort(
                key=lambda p: (_pod_ready(p), p["metadata"]["creationTimestamp"], p["metadata"]["name"])
            )
            for pod in pods[: len(pods) - desired]:
                self.store.remove(("", "pods"), ns, pod["metadata"]["name"])
                self.record(
                    rs,
                    "Normal",
                    "SuccessfulDelete",
                    f"Deleted pod: {pod['metadata']['name']}",
                    "replicaset-controller",
                )
            pods = pods[len(pods) - desired :]
        pods = [
            p
            for p in (self.store.raw(("", "pods"), ns, p["metadata"]["name"]) for p in pods)
            if p is not None
        ]
        ready = sum(1 for p in pods if _pod_ready(p))
        status: Obj = {
            "replicas": len(pods),
            "fullyLabeledReplicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "terminatingReplicas": 0,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        rs = self.store.raw(("apps", "replicasets"), ns, rs["metadata"]["name"]) or rs
        self._update_status(rs, _drop_zero(status, keep=("replicas", "observedGeneration")))

    def _deployment(self, dep: Obj) -> None:
        if dep["metadata"].get("deletionTimestamp"):
            return
        meta = dep["metadata"]
        ns, name = meta["namespace"], meta["name"]
        spec = dep["spec"]
        desired = int(spec.get("replicas", 1))
        template = spec.get("template") or {}
        rs_list = self._owned(("apps", "replicasets"), dep)
        max_revision = max((_revision(rs) for rs in rs_list), default=0)
        new_rs = next(
            (
                rs
                for rs in rs_list
                if _without_hash(rs["spec"].get("template") or {}) == _without_hash(template)
            ),
            None,
        )
        if spec.get("paused"):
            self._deployment_status(dep, new_rs)
            return
        recreate = (spec.get("strategy") or {}).get("type") == "Recreate"
        surge, unavailable = _fenceposts(dep)
        if new_rs is None:
            pod_hash = template_hash(template)
            labels = {**((template.get("metadata") or {}).get("labels") or {}), "pod-template-hash": pod_hash}
            rs_template = copy.deepcopy(template)
            rs_template.setdefault("metadata", {})["labels"] = labels
            selector = copy.deepcopy(spec.get("selector") or {})
            selector.setdefault("matchLabels", {})["pod-template-hash"] = pod_hash
            body: Obj = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": f"{name}-{pod_hash}",
                    "labels": labels,
                    "annotations": {
                        "deployment.kubernetes.io/desired-replicas": str(desired),
                        "deployment.kubernetes.io/max-replicas": str(desired + surge),
                        "deployment.kubernetes.io/revision": str(max_revision + 1),
                    },
                    "ownerReferences": [_owner_ref(dep)],
                },
                "spec": {
                    "replicas": 0,
                    "minReadySeconds": spec.get("minReadySeconds", 0),
                    "selector": selector,
                    "template": rs_template,
                },
            }
            new_rs = self._create(("apps", "v1", "replicasets"), ns, body)
            if new_rs is None:
                return
            max_revision += 1
        elif _revision(new_rs) < max_revision:
            # a rollback to an older template: its ReplicaSet becomes the newest revision
            updated = copy.deepcopy(new_rs)
            updated["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = str(
                max_revision + 1
            )
            new_rs = self.store.write(updated)
            max_revision += 1
        new_uid = new_rs["metadata"]["uid"]
        olds = [rs for rs in self._owned(("apps", "replicasets"), dep) if rs["metadata"]["uid"] != new_uid]
        olds.sort(key=_revision)
        if recreate:
            for old in olds:
                self._scale_rs(dep, old, 0)
            if not any(self._rs_pods(old) for old in olds):
                self._scale_rs(dep, new_rs, desired)
        else:
            self._rolling_update(dep, new_rs, olds, desired, surge, unavailable)
        new_rs = self.store.raw(("apps", "replicasets"), ns, new_rs["metadata"]["name"])
        if new_rs is not None:
            self._prune_history(dep, new_rs)
            revision = str(_revision(new_rs))
            current = self.store.raw(("apps", "deployments"), ns, name)
            if (
                current is not None
                and (current["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
                != revision
            ):
                updated = copy.deepcopy(current)
                updated["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = (
                    revision
                )
                self.store.write(updated)
        dep = self.store.raw(("apps", "deployments"), ns, name) or dep
        self._deployment_status(dep, new_rs)

    def _rolling_update(
        self, dep: Obj, new_rs: Obj, olds: list[Obj], desired: int, surge: int, unavailable: int
    ) -> None:
        """One step of the real rolling-update arithmetic (``maxSurge``/``maxUnavailable``)."""

        def fresh(rs: Obj) -> Obj:
            return (
                self.store.raw(("apps", "replicasets"), rs["metadata"]["namespace"], rs["metadata"]["name"])
                or rs
            )

        def replicas(rs: Obj) -> int:
            return int(fresh(rs)["spec"].get("replicas", 0))

        def available(rs: Obj) -> int:
            return int((fresh(rs).get("status") or {}).get("availableReplicas", 0))

        # scale the new ReplicaSet up as far as maxSurge allows
        current_new = replicas(new_rs)
        if current_new > desired:
            self._scale_rs(dep, new_rs, desired)
        elif current_new < desired:
            total = current_new + sum(replicas(o) for o in olds)
            room = desired + surge - total
            if room > 0:
                self._scale_rs(dep, new_rs, min(desired, current_new + room))
        # scale old ReplicaSets down as far as maxUnavailable allows: unhealthy pods first
        min_available = desired - unavailable
        all_pods = replicas(new_rs) + sum(replicas(o) for o in olds)
        new_unavailable = max(0, replicas(new_rs) - available(new_rs))
        budget = all_pods - min_available - new_unavailable
        for old in olds:
            if budget <= 0:
                break
            unhealthy = replicas(old) - available(old)
            if unhealthy > 0:
                cut = min(budget, unhealthy)
                self._scale_rs(dep, old, replicas(old) - cut)
                budget -= cut
        total_available = available(new_rs) + sum(available(o) for o in olds)
        budget = total_available - min_available
        for old in olds:
            if budget <= 0:
                break
            cut = min(budget, replicas(old))
            if cut > 0:
                self._scale_rs(dep, old, replicas(old) - cut)
                budget -= cut

    def _rs_pods(self, rs: Obj) -> int:
        return len(self._owned(("", "pods"), rs))

    def _scale_rs(self, dep: Obj, rs: Obj, replicas: int) -> None:
        current = self.store.raw(("apps", "replicasets"), rs["metadata"]["namespace"], rs["metadata"]["name"])
        if current is None or int(current["spec"].get("replicas", 0)) == replicas:
            return
        before = int(current["spec"].get("replicas", 0))
        new = copy.deepcopy(current)
        new["spec"]["replicas"] = replicas
        new["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/desired-replicas"] = str(
            dep["spec"].get("replicas", 1)
        )
        self.store.write(new)
        verb = "up" if replicas > before else "down"
        self.record(
            dep,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {verb} replica set {rs['metadata']['name']} from {before} to {replicas}",
            "deployment-controller",
        )

    def _prune_history(self, dep: Obj, new_rs: Obj) -> None:
        limit = int(dep["spec"].get("revisionHistoryLimit", 10))
        old = [
            rs
            for rs in self._owned(("apps", "replicasets"), dep)
            if rs["metadata"]["uid"] != new_rs["metadata"]["uid"]
            and int(rs["spec"].get("replicas", 0)) == 0
            and not self._rs_pods(rs)
        ]
        old.sort(
            key=lambda rs: int(
                (rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")
            )
        )
        for rs in old[: max(0, len(old) - limit)]:
            self.store.remove(("apps", "replicasets"), rs["metadata"]["namespace"], rs["metadata"]["name"])

    def _deployment_status(self, dep: Obj, new_rs: Obj | None) -> None:
        spec = dep["spec"]
        desired = int(spec.get("replicas", 1))
        rs_list = self._owned(("apps", "replicasets"), dep)
        total = sum(int((rs.get("status") or {}).get("replicas", 0)) for rs in rs_list)
        ready = sum(int((rs.get("status") or {}).get("readyReplicas", 0)) for rs in rs_list)
        available = sum(int((rs.get("status") or {}).get("availableReplicas", 0)) for rs in rs_list)
        updated = int(((new_rs or {}).get("status") or {}).get("replicas", 0)) if new_rs else 0
        new_available = int(((new_rs or {}).get("status") or {}).get("availableReplicas", 0)) if new_rs else 0
        old_status = dep.get("status") or {}
        status: Obj = {
            "observedGeneration": dep["metadata"].get("generation", 1),
            "replicas": total,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": available,
            "unavailableReplicas": max(
                0, sum(int(rs["spec"].get("replicas", 0)) for rs in rs_list) - available
            ),
            "conditions": copy.deepcopy(old_status.get("conditions") or []),
        }
        if available >= desired - _fenceposts(dep)[1]:
            _condition(
                status,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                probe_times=True,
            )
        else:
            _condition(
                status,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                probe_times=True,
            )
        rs_name = (new_rs or {}).get("metadata", {}).get("name", "")
        complete = new_rs is not None and updated == desired and new_available == desired and total == desired
        progressing = _get_condition(dep, "Progressing")
        deadline = int(spec.get("progressDeadlineSeconds", 600))
        if spec.get("paused"):
            _condition(
                status, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", probe_times=True
            )
        elif complete:
            _condition(
                status,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
                probe_times=True,
            )
        elif (
            progressing
            and progressing.get("reason") == "ProgressDeadlineExceeded"
            and dep.get("status", {}).get("observedGeneration") == dep["metadata"].get("generation")
        ):
            pass  # stays failed until the spec changes
        else:
            started = self._progress_started(dep, progressing, rs_name)
            if time.time() - started >= deadline:
                _condition(
                    status,
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    f'ReplicaSet "{rs_name}" has timed out progressing.',
                    probe_times=True,
                )
            else:
                message = f'ReplicaSet "{rs_name}" is progressing.' if rs_name else "Created new replica set"
                reason = "ReplicaSetUpdated" if rs_name else "NewReplicaSetCreated"
                _condition(status, "Progressing", "True", reason, message, probe_times=True)
                for cond in status["conditions"]:
                    if cond["type"] == "Progressing":
                        cond.setdefault("_started", started)
                ns, name, uid = dep["metadata"]["namespace"], dep["metadata"]["name"], dep["metadata"]["uid"]

                def check() -> None:
                    current = self.store.raw(("apps", "deployments"), ns, name)
                    if current is not None and current["metadata"]["uid"] == uid:
                        self.store._queue.append((("apps", "deployments"), ns, name))

                if (ns, name, started) not in self._deadline_timers:
                    self._deadline_timers.add((ns, name, started))
                    self.after(max(0.0, started + deadline - time.time()) + 0.01, check)
        for cond in status["conditions"]:
            cond.pop("_started", None)
        status["conditions"].sort(key=lambda c: {"Available": 0, "Progressing": 1}.get(c["type"], 2))
        self._update_status(dep, _drop_zero(status, keep=("observedGeneration", "replicas", "conditions")))

    def _progress_started(self, dep: Obj, progressing: Obj | None, rs_name: str) -> float:
        """When the current rollout began: the Progressing condition's last update for this ReplicaSet."""
        key = (dep["metadata"]["uid"], dep["metadata"].get("generation", 1), rs_name)
        started = self._rollout_started.get(key)
        if started is None:
            started = time.time()
            self._rollout_started[key] = started
        return started

    def _statefulset(self, sts: Obj) -> None:
        if sts["metadata"].get("deletionTimestamp"):
            return
        meta = sts["metadata"]
        ns, name = meta["namespace"], meta["name"]
        spec = sts["spec"]
        desired = int(spec.get("replicas", 1))
        template = spec.get("template") or {}
        revision = f"{name}-{template_hash(template)}"
        parallel = spec.get("podManagementPolicy") == "Parallel"
        on_delete = (spec.get("updateStrategy") or {}).get("type") == "OnDelete"
        pods = {p["metadata"]["name"]: p for p in self._owned(("", "pods"), sts)}
        for ordinal in range(desired):
            pod_name = f"{name}-{ordinal}"
            pod = pods.get(pod_name)
            if (
                pod is not None
                and not on_delete
                and (pod["metadata"].get("labels") or {}).get("controller-revision-hash") != revision
            ):
                # roll from the highest ordinal down, one at a time, once the rest are ready
                higher_ready = all(_pod_ready(p) for n, p in pods.items() if n != pod_name)
                higher_updated = all(
                    (pods[f"{name}-{o}"]["metadata"].get("labels") or {}).get("controller-revision-hash")
                    == revision
                    for o in range(ordinal + 1, desired)
                    if f"{name}-{o}" in pods
                )
                if (parallel or higher_ready) and higher_updated:
                    self.store.remove(("", "pods"), ns, pod_name)
                    self.record(
                        sts,
                        "Normal",
                        "SuccessfulDelete",
                        f"delete Pod {pod_name} in StatefulSet {name} successful",
                        "statefulset-controller",
                    )
                    pod = None
                    pods.pop(pod_name)
            if pod is None:
                if not parallel and not all(
                    _pod_ready(pods[f"{name}-{o}"]) for o in range(ordinal) if f"{name}-{o}" in pods
                ):
                    break
                if not parallel and any(f"{name}-{o}" not in pods for o in range(ordinal)):
                    break
                pod_template = copy.deepcopy(template)
                pod_spec = pod_template.setdefault("spec", {})
                pod_spec["hostname"] = pod_name
                if spec.get("serviceName"):
                    pod_spec["subdomain"] = spec["serviceName"]
                for claim in spec.get("volumeClaimTemplates") or []:
                    claim_name = f"{claim['metadata']['name']}-{pod_name}"
                    if self.store.raw(("", "persistentvolumeclaims"), ns, claim_name) is None:
                        self._create(
                            ("", "v1", "persistentvolumeclaims"),
                            ns,
                            {
                                "metadata": {
                                    "name": claim_name,
                                    "labels": dict((spec.get("selector") or {}).get("matchLabels") or {}),
                                },
                                "spec": copy.deepcopy(claim.get("spec") or {}),
                            },
                        )
                    volumes = pod_spec.setdefault("volumes", [])
                    if not any(v.get("name") == claim["metadata"]["name"] for v in volumes):
                        volumes.append(
                            {
                                "name": claim["metadata"]["name"],
                                "persistentVolumeClaim": {"claimName": claim_name},
                            }
                        )
                created = self._new_pod(
                    sts,
                    pod_template,
                    pod_name,
                    {
                        "controller-revision-hash": revision,
                        "statefulset.kubernetes.io/pod-name": pod_name,
                        "apps.kubernetes.io/pod-index": str(ordinal),
                    },
                )
                if created is None:
                    break
                self.record(
                    sts,
                    "Normal",
                    "SuccessfulCreate",
                    f"create Pod {pod_name} in StatefulSet {name} successful",
                    "statefulset-controller",
                )
                pods[pod_name] = self.store.raw(("", "pods"), ns, pod_name) or created
                if not parallel and not _pod_ready(pods[pod_name]):
                    break
        for pod_name in sorted(
            pods, key=lambda n: -int(n.rsplit("-", 1)[-1]) if n.rsplit("-", 1)[-1].isdigit() else 0
        ):
            ordinal_text = pod_name.rsplit("-", 1)[-1]
            if ordinal_text.isdigit() and int(ordinal_text) >= desired:
                self.store.remove(("", "pods"), ns, pod_name)
                pods.pop(pod_name)
        live = [p for p in (self.store.raw(("", "pods"), ns, n) for n in pods) if p is not None]
        updated = [
            p for p in live if (p["metadata"].get("labels") or {}).get("controller-revision-hash") == revision
        ]
        ready = sum(1 for p in live if _pod_ready(p))
        old_status = sts.get("status") or {}
        current_revision = old_status.get("currentRevision") or revision
        if len(updated) == len(live) == desired:
            current_revision = revision
        current = [
            p
            for p in live
            if (p["metadata"].get("labels") or {}).get("controller-revision-hash") == current_revision
        ]
        status: Obj = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": len(live),
            "readyReplicas": ready,
            "currentReplicas": len(current),
            "updatedReplicas": len(updated),
            "availableReplicas": ready,
            "currentRevision": current_revision,
            "updateRevision": revision,
            "collisionCount": 0,
        }
        sts = self.store.raw(("apps", "statefulsets"), ns, name) or sts
        self._update_status(
            sts,
            _drop_zero(
                status,
                keep=(
                    "observedGeneration",
                    "replicas",
                    "availableReplicas",
                    "collisionCount",
                    "currentRevision",
                    "updateRevision",
                ),
            ),
        )

    def _daemonset(self, ds: Obj) -> None:
        if ds["metadata"].get("deletionTimestamp"):
            return
        meta = ds["metadata"]
        ns, name = meta["namespace"], meta["name"]
        template = ds["spec"].get("template") or {}
        revision = template_hash(template)
        pods = self._owned(("", "pods"), ds)
        for pod in pods:
            if (pod["metadata"].get("labels") or {}).get("controller-revision-hash") != revision:
                self.store.remove(("", "pods"), ns, pod["metadata"]["name"])
        pods = self._owned(("", "pods"), ds)
        if not pods:
            created = self._new_pod(
                ds,
                template,
                f"{name}-{random_suffix()}",
                {
                    "controller-revision-hash": revision,
                    "pod-template-generation": str(meta.get("generation", 1)),
                },
            )
            if created is not None:
                self.record(
                    ds,
                    "Normal",
                    "SuccessfulCreate",
                    f"Created pod: {created['metadata']['name']}",
                    "daemonset-controller",
                )
            pods = self._owned(("", "pods"), ds)
        ready = sum(1 for p in pods if _pod_ready(p))
        status: Obj = {
            "currentNumberScheduled": len(pods),
            "desiredNumberScheduled": 1,
            "numberMisscheduled": 0,
            "numberReady": ready,
            "numberAvailable": ready,
            "numberUnavailable": 1 - ready if ready < 1 else 0,
            "updatedNumberScheduled": len(pods),
            "observedGeneration": meta.get("generation", 1),
        }
        ds = self.store.raw(("apps", "daemonsets"), ns, name) or ds
        self._update_status(
            ds,
            _drop_zero(
                status,
                keep=(
                    "currentNumberScheduled",
                    "desiredNumberScheduled",
                    "numberMisscheduled",
                    "numberReady",
                    "observedGeneration",
                ),
            ),
        )

    def _job(self, job: Obj) -> None:
        meta = job["metadata"]
        if meta.get("deletionTimestamp"):
            return
        ns, name = meta["namespace"], meta["name"]
        spec = job["spec"]
        status = copy.deepcopy(job.get("status") or {})
        if any(
            c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
            for c in status.get("conditions") or []
        ):
            return
        if spec.get("suspend"):
            return
        status.setdefault("startTime", now_rfc3339())
        backoff = int(spec.get("backoffLimit", 6))
        for _ in range(backoff + 2):
            pods = self._owned(("", "pods"), job)
            succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
            failed = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Failed")
            active = [p for p in pods if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
            if succeeded >= int(spec.get("completions", 1)) or failed > backoff or active:
                break
            created = self._new_pod(job, spec.get("template") or {}, f"{name}-{random_suffix()}", {})
            if created is None:
                break
            self.record(
                job,
                "Normal",
                "SuccessfulCreate",
                f"Created pod: {created['metadata']['name']}",
                "job-controller",
            )
        pods = self._owned(("", "pods"), job)
        succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
        failed = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Failed")
        active = [p for p in pods if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
        status["active"] = len(active)
        status["ready"] = sum(1 for p in active if _pod_ready(p))
        status["succeeded"] = succeeded
        status["failed"] = failed
        status["terminating"] = 0
        status["uncountedTerminatedPods"] = {}
        if succeeded >= int(spec.get("completions", 1)):
            status["completionTime"] = now_rfc3339()
            _condition(
                status,
                "SuccessCriteriaMet",
                "True",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                probe_times=False,
            )
            _condition(
                status,
                "Complete",
                "True",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                probe_times=False,
            )
            self.record(job, "Normal", "Completed", "Job completed", "job-controller")
        elif failed > backoff:
            _condition(
                status,
                "FailureTarget",
                "True",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
            )
            _condition(
                status,
                "Failed",
                "True",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
            )
            self.record(
                job,
                "Warning",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                "job-controller",
            )
        for cond in status.get("conditions") or []:
            cond.setdefault("lastProbeTime", now_rfc3339())
        job = self.store.raw(("batch", "jobs"), ns, name) or job
        self._update_status(
            job,
            _drop_zero(
                status,
                keep=(
                    "startTime",
                    "uncountedTerminatedPods",
                    "terminating",
                    "ready",
                    "active",
                    "succeeded",
                    "failed",
                    "conditions",
                ),
            ),
        )


def _without_hash(template: Obj) -> Obj:
    out = copy.deepcopy(template)
    labels = (out.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop("pod-template-hash", None)
    return out


def _drop_zero(status: Obj, keep: Sequence[str] = ()) -> Obj:
    """Go's omitempty: zero counters are not serialized (unless the field has no omitempty)."""
    return {k: v for k, v in status.items() if k in keep or v not in (0, None, "", [], {})}


def _strip_empty(status: Obj) -> None:
    for cond in status.get("conditions") or []:
        for key in ("reason", "message"):
            if cond.get(key) == "":
                del cond[key]


def _image_id(image: str) -> str:
    return f"{_docker_ref(image)}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


def _docker_ref(image: str) -> str:
    name = image.split("@")[0]
    first = name.split("/")[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        name += ":latest"
    return name
