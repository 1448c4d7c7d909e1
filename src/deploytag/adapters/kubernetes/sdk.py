"""Import only the parts of the official client the SDK fallback (``sdkfallback``) uses.

`import kubernetes` executes the package's __init__, which imports every API
class and some 800 model classes: about 0.4 s, more than a no-op redeploy
should take in total. The fallback sends paths and reads raw JSON through
``ApiClient.call_api``, so it needs the kubeconfig loader, Configuration,
ApiClient and ApiException, and no API class. When
nothing has imported the SDK yet, its packages are registered as bare packages
(their __init__ not run) and just those modules are imported; any surprise in
the SDK's layout falls back to the ordinary full import.

Some imports of the SDK serve only rare paths: ``requests`` (for one proxy
check, when a proxy is configured), ``oauthlib`` / ``requests_oauthlib``
(refreshing a legacy OIDC auth-provider token) and ``dateutil`` (dates of model
objects). Together about 35 ms; they are deferred to their first use (``_deferred``).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def load() -> tuple[Any, Any]:
    """(client, config): objects with the attributes the adapter uses from both."""
    if "kubernetes" in sys.modules:
        from kubernetes import client, config

        return client, config
    try:
        return _narrow()
    except Exception:  # any layout change in the SDK: start over with the supported way
        for name in [m for m in sys.modules if m == "kubernetes" or m.startswith("kubernetes.")]:
            del sys.modules[name]
        from kubernetes import client, config

        return client, config


def _bare_package(name: str) -> types.ModuleType:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(name, name=name)
    module = types.ModuleType(name)
    module.__path__ = list(spec.submodule_search_locations)
    module.__spec__ = spec
    sys.modules[name] = module
    return module


def _narrow() -> tuple[Any, Any]:
    _bare_package("kubernetes")
    client = _bare_package("kubernetes.client")
    _bare_package("kubernetes.client.models")  # deserialising into models is never used
    _bare_package("kubernetes.client.api")  # no API class is needed: requests go by path
    with _deferred():
        configuration = importlib.import_module("kubernetes.client.configuration")
        api_client = importlib.import_module("kubernetes.client.api_client")
        exceptions = importlib.import_module("kubernetes.client.exceptions")
        # What kube_config/incluster_config import from `kubernetes.client`, and what we use.
        for attr, value in {
            "Configuration": configuration.Configuration,
            "ApiClient": api_client.ApiClient,
            "exceptions": exceptions,
            "ApiException": exceptions.ApiException,
        }.items():
            setattr(client, attr, value)
        config = importlib.import_module("kubernetes.config")
    return client, config


class _Standin(types.ModuleType):
    """Stands in for a module while the SDK imports; afterwards an attribute is read from the
    real module, imported then."""

    def __getattr__(self, attr: str) -> Any:
        if sys.modules.get(self.__name__) is self:  # still standing in: nothing to delegate to
            raise AttributeError(attr)
        return getattr(importlib.import_module(self.__name__), attr)


def _later(module: str, attr: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), attr)(*args, **kwargs)

    return call


# module -> the names the SDK imports from it with `from module import name` (bound at import).
_DEFERRED: dict[str, tuple[str, ...]] = {
    "requests": (),
    "requests.utils": ("should_bypass_proxies",),
    "oauthlib": (),
    "oauthlib.oauth2": (),
    "requests_oauthlib": ("OAuth2Session",),
    "dateutil": (),
    "dateutil.parser": ("parse",),  # dates of model objects, which are never deserialised here
}


@contextmanager
def _deferred() -> Iterator[None]:
    """Stand-ins for the modules in ``_DEFERRED`` during the SDK's import, removed afterwards so
    that anyone importing them later gets the real ones (as the SDK's names then do)."""
    if any(name in sys.modules for name in _DEFERRED):
        yield
        return
    standins = {name: _Standin(name) for name in _DEFERRED}
    for name, attrs in _DEFERRED.items():
        for attr in attrs:
            setattr(standins[name], attr, _later(name, attr))
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(standins[parent], child, standins[name])
    sys.modules.update(standins)
    try:
        yield
    finally:
        for name, standin in standins.items():
            if sys.modules.get(name) is standin:
                del sys.modules[name]
