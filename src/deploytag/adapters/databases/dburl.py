"""Parse an admin connection URL (postgresql://… or mysql://…) without echoing it."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from deploytag.core.errors import ConfigError
from deploytag.ports.database import AdminConnection

_SCHEMES = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mysql+pymysql": "mysql",
}
DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306}


def parse_admin_url(url: str, *, source: str) -> AdminConnection:
    """``source`` names where the URL came from; errors name it, never the URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as e:
        raise ConfigError(
            f"the admin database URL from {source} is not a valid URL",
            hint="use postgresql://USER:PASSWORD@HOST:5432/postgres or mysql://USER:PASSWORD@HOST:3306/",
        ) from e
    engine = _SCHEMES.get(parts.scheme.lower())
    if engine is None or not parts.hostname or not parts.username:
        raise ConfigError(
            f"the admin database URL from {source} needs a scheme (postgresql/mysql), user and host",
            hint="use postgresql://USER:PASSWORD@HOST:5432/postgres or mysql://USER:PASSWORD@HOST:3306/",
        )
    return AdminConnection(
        engine=engine,
        host=parts.hostname,
        port=port or DEFAULT_PORTS[engine],
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        database=unquote(parts.path.lstrip("/")),
    )
