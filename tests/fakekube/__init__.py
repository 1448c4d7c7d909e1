"""fakekube: an HTTP-level fake Kubernetes API server for tests.

The README's offline sandbox (``tools/example.sh``): it stands in for a cluster
at the HTTP level, so the official ``kubernetes`` Python client, ``kubectl`` and
the real ``helm`` binaries (Helm 3.18 and 4.1) talk to it through an ordinary
kubeconfig file. The tests run against a real API server (tests/realkube.py);
fakekube is held to the same suites (tests/contract, tests/fakekube_test) so it
cannot drift from it. Standard library only (plus PyYAML; ``cryptography``
for the optional TLS mode).

Importing it
------------
Under pytest, ``tests/`` is on ``sys.path`` (``tests/conftest.py`` sits in a
directory without ``__init__.py``), so the package is ``fakekube``::

    from fakekube import FakeKube, FailureRule

    def test_something(tmp_path):
        with FakeKube(kubeconfig=tmp_path / "kubeconfig") as kube:
            subprocess.run(["helm", "list", "-A"], env=kube.env(), check=True)
            assert kube.store.get("namespaces", None, "default") is not None

Fixtures (``fakekube.plugin``) come into a test directory through its
``conftest.py``: ``from fakekube.plugin import fakekube, fakekube_module``
(list them in ``__all__`` or mark ``# noqa: F401``):

* ``fakekube`` - a fresh server per test (it starts in ~10 ms), kubeconfig in tmp_path;
* ``fakekube_module`` - one server per test module (tests must not assume it empty).

Standalone, from the repository root::

    .venv/bin/python -m tests.fakekube --port 6443 --kubeconfig /tmp/fake.kubeconfig [--log-requests]
    KUBECONFIG=/tmp/fake.kubeconfig helm list -A

The FakeKube object
-------------------
* ``.kubeconfig`` (Path; context ``fakekube``, namespace ``default``, a token user),
  ``.url``, ``.context``, ``.env()`` (``os.environ`` plus ``KUBECONFIG``).
* ``.store``: ``get(resource, namespace, name)``, ``list(resource, namespace,
  label_selector=, field_selector=)``, ``create(obj)`` (as a client: defaults,
  validation, controllers), ``put(obj)`` (as a controller: no checks),
  ``delete(resource, namespace, name)``, ``namespaced_objects(ns)``. ``resource``
  is loose: ``"deployments"``, ``"deploy"``, ``"Deployment"``, ``"apps/v1/deployments"``.
* ``.request_log`` / ``.requests(method, path_contains)``: :class:`RequestRecord` s
  (method, path, query, status, content_type, accept, user_agent, parsed body),
  logged when answered (a watch: when its stream starts).
* ``.wait_until(predicate, timeout)``; ``.settle()`` runs due timers at once.
* Knobs, changeable while running: ``failure_rules`` (list of :class:`FailureRule`),
  ``namespace_deletion_delay`` (0.3 s), ``ready_delay`` (0: pods are Ready at once),
  ``node_allocatable`` (``{"cpu": "64", "memory": "256Gi"}``), ``token``,
  ``latency``; constructor only: ``tls=True`` (self-signed https, CA in the kubeconfig),
  ``aggregated_discovery``, ``kube_version``.

How workloads behave (``controllers.py``): a container image containing
``:crashloop`` crash-loops (CrashLoopBackOff, restarts, a log; ``:oomkill`` likewise with the
last state OOMKilled, exit code 137), ``:missing`` or
``doesnotexist`` can't be pulled (ImagePullBackOff, Warning ``Failed`` events),
``:fail`` exits 1 (a failed Job); a ``sh -c`` script of ``echo``s ending in
``exit N`` exits N with those lines as its log; a pod asking for more CPU or
memory than the node has stays Pending (Unschedulable, ``FailedScheduling``).
Everything else runs and is Ready. Services get cluster IPs, node ports, and
(LoadBalancer) ``<name>.<ns>.lb.fakekube.test``.

What the real clients need, and fakekube serves
-----------------------------------------------
* Discovery, aggregated (``apidiscovery.k8s.io/v2``) and legacy; ``/version``.
* OpenAPI v3 (``/openapi/v3`` and per group-version): helm 3 and 4 fail without it;
  it only has to say that PATCH takes ``fieldValidation``, after which clients leave
  validation to the server (fakekube does not validate fields against schemas).
* Protobuf request bodies: both helms write their release Secrets (and helm 3 its
  namespace) through typed clients in ``application/vnd.kubernetes.protobuf``;
  fakekube decodes Secret, ConfigMap, Namespace and DeleteOptions, and answers JSON.
* Server-side apply (Helm 4 installs and upgrades with it); three-way strategic merge
  patch with its directives (Helm 3 and kubectl); PUT (``--force``/``--force-replace``).
* Watches as chunked JSON streams, including the watch-list form
  (``sendInitialEvents=true`` + the ``k8s.io/initial-events-end`` bookmark) that
  Helm 4's kstatus waiter uses; label-selector transitions read as ADDED/DELETED.
* ReplicaSets with ``pod-template-hash`` and the rolling-update arithmetic: Helm 3's
  ``--wait`` finds a Deployment's new ReplicaSet and compares pod templates.

Known gaps: no CRDs or API aggregation; no field schema validation (``fieldValidation``
is accepted and ignored); server-side apply is a merge for one manager at a time
(no ``managedFields``, no conflicts between managers); a client's change to a Deployment's
annotations is no new generation (on a real server it is); no admission (quotas and limit
ranges are stored, not enforced); no pod exec/attach/port-forward; no protobuf or
CBOR responses; events.k8s.io writes are stored as core events.
"""

from .controllers import FailureRule, default_failure_rules
from .errors import ApiError
from .server import FakeKube, RequestRecord
from .store import Store

__all__ = ["ApiError", "FailureRule", "FakeKube", "RequestRecord", "Store", "default_failure_rules"]
