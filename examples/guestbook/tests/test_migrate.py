"""migrate.py as a command; run in a subprocess so psycopg is never imported here."""

from __future__ import annotations

import os
import subprocess
import sys
import unittest
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1]


def run_migrate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "migrate.py", *args],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestMigrate(unittest.TestCase):
    def test_lists_migrations_in_order(self) -> None:
        result = run_migrate("--list")
        self.assertEqual(result.returncode, 0, result.stderr)
        versions = result.stdout.split()
        self.assertEqual(versions[0], "001_create_entries")
        self.assertEqual(versions, sorted(versions, key=lambda v: int(v.split("_")[0])))

    def test_without_database_url_it_does_nothing(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        result = run_migrate(env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("nothing to do", result.stdout)


if __name__ == "__main__":
    unittest.main()
