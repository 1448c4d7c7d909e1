"""The app's test command, its migration command and its database engine, from its files.

First match wins, in the order the lists below give; the others found are reported too, so
``deploytag init`` can say what else it saw.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from deploytag.core.scaffold.facts import MigrationFacts, TestFacts

_MAX_READ = 256 * 1024  # bytes read from any one file: manifests and configs, never data


def read(path: Path) -> str:
    try:
        with path.open("rb") as f:
            return f.read(_MAX_READ).decode("utf-8", errors="replace")
    except OSError:
        return ""


def find_tests(root: Path) -> list[TestFacts]:
    """Test commands, most explicit first: a Makefile ``test`` target, package.json's
    ``scripts.test``, pytest's configuration, go.mod, then a ``tests/`` directory."""
    found: list[TestFacts] = []
    makefile = next((root / n for n in ("Makefile", "makefile", "GNUmakefile") if (root / n).is_file()), None)
    if makefile is not None and re.search(r"^test\s*:(?!=)", read(makefile), re.MULTILINE):
        found.append(TestFacts(("make", "test"), f"{makefile.name}: a test target"))
    if _npm_test(root / "package.json"):
        found.append(TestFacts(("npm", "test"), "package.json: scripts.test"))
    pytest_config = _pytest_config(root)
    if pytest_config:
        found.append(TestFacts(("python", "-m", "pytest"), pytest_config))
    if (root / "go.mod").is_file():
        found.append(TestFacts(("go", "test", "./..."), "go.mod"))
    tests_dir = next((root / n for n in ("tests", "test") if (root / n).is_dir()), None)
    if not pytest_config and tests_dir is not None and any(tests_dir.glob("test*.py")):
        found.append(_python_tests_dir(tests_dir))
    return found


def _npm_test(package_json: Path) -> bool:
    if not package_json.is_file():
        return False
    try:
        scripts = json.loads(read(package_json)).get("scripts") or {}
    except (ValueError, AttributeError):
        return False
    test = scripts.get("test") if isinstance(scripts, dict) else None
    # `npm init` writes a test script that only fails: it is not a test command.
    return isinstance(test, str) and bool(test.strip()) and "no test specified" not in test


def _pytest_config(root: Path) -> str:
    if (root / "pytest.ini").is_file():
        return "pytest.ini"
    if (root / "conftest.py").is_file():
        return "conftest.py"
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(read(pyproject))
        except tomllib.TOMLDecodeError:
            data = {}
        if "pytest" in data.get("tool", {}):
            return "pyproject.toml: [tool.pytest]"
    for name, section in (("setup.cfg", "[tool:pytest]"), ("tox.ini", "[pytest]")):
        if section in read(root / name):
            return f"{name}: {section}"
    return ""


def _python_tests_dir(tests_dir: Path) -> TestFacts:
    """pytest unless every test module is plain unittest (runnable with no installs)."""
    sources = [read(p) for p in sorted(tests_dir.glob("test*.py"))]
    uses_pytest = any(re.search(r"^\s*(import|from)\s+pytest\b", s, re.MULTILINE) for s in sources)
    if not uses_pytest and any("unittest" in s for s in sources):
        return TestFacts(
            ("python", "-m", "unittest", "discover", "-s", tests_dir.name),
            f"{tests_dir.name}/: unittest modules",
        )
    return TestFacts(("python", "-m", "pytest"), f"{tests_dir.name}/: test modules")


def find_migrations(root: Path) -> MigrationFacts | None:
    """alembic, Django's manage.py, a migrate script beside ``migrations/``, or a bare ``migrations/``."""
    if (root / "alembic.ini").is_file():
        return MigrationFacts(("alembic", "upgrade", "head"), "alembic.ini")
    manage = root / "manage.py"
    if manage.is_file() and "django" in read(manage).lower():
        return MigrationFacts(("python", "manage.py", "migrate", "--noinput"), "manage.py (Django)")
    migrations = root / "migrations"
    for script in ("migrate.py", "migrate.sh"):
        if (root / script).is_file() and migrations.is_dir():
            runner = "python" if script.endswith(".py") else "sh"
            return MigrationFacts((runner, script), f"{script} and migrations/")
    if migrations.is_dir() and any(migrations.iterdir()):
        return MigrationFacts(None, "migrations/ (no runner recognised)")
    return None


# Files that name a database driver, and the drivers' markers per engine.
_DRIVER_FILES = (
    "requirements.txt",
    "requirements/base.txt",
    "pyproject.toml",
    "setup.cfg",
    "Pipfile",
    "package.json",
    "go.mod",
    "Gemfile",
    "alembic.ini",
    "Dockerfile",
    "Dockerfile.base",
    "docker-compose.yml",
    "docker-compose.yaml",
    "compose.yaml",
)
_ENGINE_MARKERS = {
    "postgres": re.compile(r"psycopg|asyncpg|postgres|\"pg\"\s*:|jackc/pgx|lib/pq"),
    "mysql": re.compile(r"pymysql|mysqlclient|mysql2|go-sql-driver/mysql|mysql|mariadb"),
}


def find_database_engine(root: Path) -> tuple[str | None, str]:
    """postgres or mysql and the file that said so; (None, "") when no file names a driver."""
    for name in _DRIVER_FILES:
        text = read(root / name).lower()
        if not text:
            continue
        for engine, marker in _ENGINE_MARKERS.items():
            if marker.search(text):
                return engine, f"a driver named in {name}"
    return None, ""
