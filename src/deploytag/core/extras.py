"""Which pip extra brings which optional SDK, and the error when one is missing.

The Kubernetes client is a core dependency (``pip install deploytag`` deploys to a
cluster); the SDKs of secondary providers stay optional, and a run that needs
one that is not installed stops with one line naming the extra to install.
"""

from __future__ import annotations

from deploytag.core.errors import ConfigError

# Top-level import name -> extra of pyproject.toml that installs it.
EXTRA_FOR_PACKAGE: dict[str, str] = {
    "boto3": "aws",
    "botocore": "aws",
    "psycopg": "postgres",
    "psycopg_binary": "postgres",
    "pymysql": "mysql",
    "dns": "dns",
    "cloudflare": "dns",
}

# Core dependencies: missing only from a broken install.
CORE_PACKAGES = frozenset({"kubernetes", "click", "msgspec", "yaml", "rich"})


def install_hint(package: str) -> str | None:
    """The pip line that installs ``package`` (a top-level import name), or None if it is not ours."""
    root = package.split(".")[0]
    extra = EXTRA_FOR_PACKAGE.get(root)
    if extra is not None:
        return f"pip install 'deploytag[{extra}]'"
    if root in CORE_PACKAGES:
        return "reinstall DeployTag (pip install --force-reinstall deploytag): it is a core dependency"
    return None


class MissingPackageError(ConfigError):
    """An optional SDK is not installed: configuration asks for a provider this install cannot run."""


def missing_package(package: str, *, needed_for: str, missing: str | None = None) -> MissingPackageError:
    """The one-line error for an SDK that is not installed; ``missing`` is the module Python could not find."""
    found = f" ({missing} not found)" if missing and missing.split(".")[0] != package.split(".")[0] else ""
    return MissingPackageError(
        f"{needed_for} needs the Python package {package.split('.')[0]}, which is not installed{found}",
        hint=install_hint(package) or f"pip install {package.split('.')[0]}",
    )
