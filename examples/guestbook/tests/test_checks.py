"""DATABASE_URL parsing and the TCP reachability check."""

from __future__ import annotations

import socket
import unittest

from guestbook.checks import DatabaseTarget, check_database, check_tcp, parse_database_url


class TestParseDatabaseUrl(unittest.TestCase):
    def test_valid(self) -> None:
        cases = {
            "postgresql://app:pw@db.internal:6543/guestbook": DatabaseTarget(
                "postgresql", "db.internal", 6543, "guestbook"
            ),
            "postgres://app@db/guestbook_feature_login": DatabaseTarget(
                "postgres", "db", 5432, "guestbook_feature_login"
            ),
            "postgresql+psycopg://u:p@10.0.0.5/app?sslmode=require": DatabaseTarget(
                "postgresql", "10.0.0.5", 5432, "app"
            ),
            "mysql://u:p@mysql/app": DatabaseTarget("mysql", "mysql", 3306, "app"),
            "postgresql://u:p@[::1]:5433/app": DatabaseTarget("postgresql", "::1", 5433, "app"),
        }
        for url, expected in cases.items():
            with self.subTest(url=url):
                self.assertEqual(parse_database_url(url), expected)

    def test_invalid_never_echo_the_url(self) -> None:
        for url in (
            "http://u:topsecret@db/app",
            "postgresql://u:topsecret@/app",
            "postgresql://u:topsecret@db",
            "postgresql://u:topsecret@db:notaport/app",
            "topsecret",
        ):
            with self.subTest(url=url), self.assertRaises(ValueError) as caught:
                parse_database_url(url)
            self.assertNotIn("topsecret", str(caught.exception))


class TestTcpCheck(unittest.TestCase):
    def test_reachable_and_unreachable(self) -> None:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            port = listener.getsockname()[1]
            self.assertTrue(check_tcp("db", "127.0.0.1", port, 1.0).ok)
        result = check_tcp("db", "127.0.0.1", port, 1.0)
        self.assertFalse(result.ok)
        self.assertIn(f"127.0.0.1:{port}", result.detail)

    def test_check_database_reports_a_bad_url(self) -> None:
        result = check_database("nonsense://x")
        self.assertFalse(result.ok)
        self.assertEqual(result.name, "database")


if __name__ == "__main__":
    unittest.main()
