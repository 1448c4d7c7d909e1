"""One check, at the moment a provider is built, that its SDK is installed.

The SDKs are imported lazily inside the adapters (start-up time), in many
places; checking once when the provider is built turns a missing one into a
ConfigError naming the extra to install, before any step acts. ``find_spec``
finds the package without importing it, so the check costs no start-up time.
"""

from __future__ import annotations

import importlib.util

from deploytag.core.extras import missing_package


def require(package: str, *, needed_for: str) -> None:
    """Raise ConfigError (``pip install 'deploytag[extra]'``) when ``package`` cannot be imported."""
    try:
        found = importlib.util.find_spec(package) is not None
    except ImportError as e:  # a parent package is missing, or an import hook refused it
        raise missing_package(package, needed_for=needed_for, missing=e.name) from e
    except ValueError:  # a module already half-imported without a spec: it is there
        found = True
    if not found:
        raise missing_package(package, needed_for=needed_for)
