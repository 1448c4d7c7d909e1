"""The test gate: its failure shows the end of the test output; --skip-tests is recorded."""

from __future__ import annotations

from e2ehelpers import COMMIT, App

FAILING = """[python, -c, "import sys; [print(f'test line {i}') for i in range(40)]; sys.exit('FAILED (failures=2)')"]"""


def test_a_failing_test_command_shows_the_tail_of_its_output(app: App) -> None:
    config = app.repo / "deploytag.yaml"
    original = '["python", "-m", "unittest", "discover", "-s", "tests"]'
    config.write_text(config.read_text().replace(original, FAILING))
    failed = app.run("deploy", "--branch", "feature/red", "--commit", COMMIT)
    assert failed.returncode == 11
    error = failed.stderr.split("deploytag: error: ", 1)[1]
    assert "exited with status 1" in error
    assert "test line 39" in error and "FAILED (failures=2)" in error
    assert "test line 5\n" not in error  # the tail, not the whole log
    assert "--skip-tests" in error


def test_skip_tests_is_recorded_on_the_environment(app: App) -> None:
    skipped = app.deploy("feature/hurry").json()  # app.deploy passes --skip-tests
    notes = app.kube.store.get("namespaces", None, skipped["namespace"])["metadata"]["annotations"]
    assert notes["deploytag.dev/tests"] == "skipped"
    tested = app.run("deploy", "--branch", "feature/hurry", "--commit", COMMIT, "-o", "json").json()
    assert {s["name"]: s["outcome"] for s in tested["steps"]}["test"] == "changed"
    notes = app.kube.store.get("namespaces", None, skipped["namespace"])["metadata"]["annotations"]
    assert notes["deploytag.dev/tests"] == "passed"
