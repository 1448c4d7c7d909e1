"""A commit is a commit, a branch is one line: hostile values through the installed `deploytag` command.

The commit lands in annotations, chart values and image tags, so anything but a hex
object id (or a revision git resolves in the app's repository) stops the command
with exit 4 before it does anything: no cluster, DNS provider or registry is reached.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cliutil import copy_example, run

COMMIT = "0123456789abcdef0123456789abcdef01234567"
SHA256 = "ab" * 32

HOSTILE_COMMITS = {
    "multi-line": f"{COMMIT}\nFAKE-LOG-LINE",
    "command-substitution": "$(touch /tmp/deploytag-pwned)",
    "semicolon": "abcdef1;rm -rf /",
    "too-short": "abc123",
    "too-long": "a" * 41,
    "between-sha1-and-sha256": "b" * 50,
    "non-hex": "xyz1234567",
    "option-like": "--output=/tmp/deploytag-pwned",
    "unknown-ref": "no-such-branch",
    "space": "abcdef1 abcdef2",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def plan_json(repo: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    result = run(repo, "plan", "--no-render", "-o", "json", *args, env=env)
    assert result.returncode == 0, result.stderr
    plan: dict[str, object] = result.json()
    return plan


def assert_refused(result_stderr: str, returncode: int, source: str) -> None:
    assert returncode == 4, result_stderr
    lines = result_stderr.strip().splitlines()
    assert len(lines) == 1, result_stderr  # one line: a newline in the value is shown escaped
    assert lines[0].startswith("deploytag: error: ") and source in lines[0]
    assert "is not a commit" in lines[0]


@pytest.mark.parametrize("commit", list(HOSTILE_COMMITS.values()), ids=list(HOSTILE_COMMITS))
def test_plan_refuses_a_commit_that_is_not_one(repo: Path, commit: str) -> None:
    result = run(repo, "plan", "--branch", "feature/x", f"--commit={commit}", "--no-render")
    assert_refused(result.stderr, result.returncode, "--commit")
    assert not Path("/tmp/deploytag-pwned").exists()


@pytest.mark.parametrize("command", ["deploy", "destroy", "build", "status", "dns", "values", "render"])
def test_every_command_taking_a_commit_refuses_before_any_side_effect(
    repo: Path, tmp_path: Path, command: str
) -> None:
    # A cluster that cannot be reached: had the command gone past the commit, it would fail
    # there (exit 8) or somewhere later, not with the plan error.
    kubeconfig = tmp_path / "unreachable.kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        "clusters: [{name: x, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "contexts: [{name: x, context: {cluster: x, user: x}}]\nusers: [{name: x, user: {token: t}}]\n"
    )
    result = run(
        repo,
        "--kubeconfig",
        str(kubeconfig),
        command,
        "--branch",
        "feature/x",
        "--commit",
        HOSTILE_COMMITS["multi-line"],
    )
    assert_refused(result.stderr, result.returncode, "--commit")
    assert not (repo / ".deploytag").exists()  # nothing rendered or written either


def test_a_commit_from_the_environment_or_ci_is_checked_too(repo: Path) -> None:
    result = run(repo, "plan", "--branch", "feature/x", env={"DEPLOYTAG_COMMIT": "$(id)"})
    assert_refused(result.stderr, result.returncode, "DEPLOYTAG_COMMIT")
    ci = {"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "feature/x", "CI_COMMIT_SHA": "abc;id"}
    result = run(repo, "plan", "--no-render", env=ci)
    assert_refused(result.stderr, result.returncode, "CI_COMMIT_SHA")


def test_object_ids_are_taken_as_given_but_lowercased(repo: Path) -> None:
    assert plan_json(repo, "--branch", "feature/x", "--commit", COMMIT.upper())["commit"] == COMMIT
    assert plan_json(repo, "--branch", "feature/x", "--commit", "ABCDEF1")["commit"] == "abcdef1"
    assert plan_json(repo, "--branch", "feature/x", "--commit", SHA256)["commit"] == SHA256
    ci = {"CIRCLECI": "true", "CIRCLE_BRANCH": "feature/x", "CIRCLE_SHA1": COMMIT.upper()}
    assert plan_json(repo, env=ci)["commit"] == COMMIT


def test_a_revision_is_resolved_to_its_full_id_in_the_apps_repository(repo: Path) -> None:
    git(repo, "init", "-q", "-b", "feature/x")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    first = git(repo, "rev-parse", "HEAD")
    git(repo, "tag", "v1")
    git(repo, "commit", "-q", "--allow-empty", "-m", "second")
    head = git(repo, "rev-parse", "HEAD")
    assert plan_json(repo, "--branch", "feature/x", "--commit", "HEAD")["commit"] == head
    assert plan_json(repo, "--branch", "feature/x", "--commit", "v1")["commit"] == first
    assert plan_json(repo, "--branch", "feature/x", "--commit", "HEAD~1")["commit"] == first
    # No --commit: the checked-out branch and HEAD, as before.
    plan = plan_json(repo)
    assert (plan["branch"], plan["commit"], plan["branch_source"]) == ("feature/x", head, "git")
    # Something git cannot resolve to a commit (a tree, a missing ref) is still refused.
    for revision in ("HEAD^{tree}", "HEAD~5", "v2"):
        result = run(repo, "plan", "--branch", "feature/x", "--commit", revision, "--no-render")
        assert_refused(result.stderr, result.returncode, "--commit")


@pytest.mark.parametrize(
    "branch", ["feature/x\nFAKE-LOG-LINE", "feature/x\r", "feature/\x1b[31mred", "feature/\u202eevil"]
)
def test_a_branch_with_control_characters_is_refused(repo: Path, branch: str) -> None:
    result = run(repo, "plan", "--branch", branch, "--commit", COMMIT, "--no-render")
    assert result.returncode == 4, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "control character" in result.stderr
    ci = {"GITHUB_ACTIONS": "true", "GITHUB_HEAD_REF": branch, "GITHUB_SHA": COMMIT}
    result = run(repo, "plan", "--no-render", env=ci)
    assert result.returncode == 4, result.stderr
    assert "GITHUB_HEAD_REF" in result.stderr


def test_odd_but_printable_branch_names_still_work(repo: Path) -> None:
    # Quotes, semicolons and non-ASCII are legal in git branches; names are sanitised, not refused.
    for branch in ['feature/"quoted"; DROP DATABASE postgres; --', "feature/ümlaut-日本語"]:
        assert plan_json(repo, "--branch", branch, "--commit", COMMIT)["branch"] == branch


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (["dns", "--zone", "example.com\nevil.com", "--dry-run"], "dns.zone"),
        (["dns", "--record", "{.Branch}\n-x", "--dry-run"], "dns.records"),
        (["dns", "--target", "1.2.3.4\n", "--dry-run"], "dns.target.address"),
        (["dns", "--cloudflare-zone-id", "abc\x1b[2J", "--dry-run"], "dns.zone_id"),
    ],
)
def test_name_like_flags_refuse_control_characters(repo: Path, args: list[str], key: str) -> None:
    result = run(repo, *args[:1], "--branch", "feature/x", "--commit", COMMIT, *args[1:])
    assert result.returncode == 3, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert key in result.stderr and "control character" in result.stderr


def test_global_name_like_flags_refuse_control_characters(repo: Path) -> None:
    for args, key in (
        (["--context", "prod\nx"], "cluster.context"),
        (["--cloud-aws-secret-id", "staging/app\n"], "secrets.ids"),
    ):
        result = run(repo, *args, "plan", "--branch", "feature/x", "--commit", COMMIT, "--no-render")
        assert result.returncode == 3, result.stderr
        assert key in result.stderr and "control character" in result.stderr
    result = run(repo, "plan", "--branch", "feature/x", "--commit", COMMIT, "--set", "a\nb=1")
    assert result.returncode == 3, result.stderr
    assert "--set key" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_an_image_repository_from_the_environment_refuses_control_characters(repo: Path) -> None:
    env = {"DEPLOYTAG_IMAGES__APP__REPOSITORY": "registry.example.com/app\nevil"}
    result = run(repo, "plan", "--branch", "feature/x", "--commit", COMMIT, "--no-render", env=env)
    assert result.returncode == 3, result.stderr
    assert "images.app.repository" in result.stderr and "control character" in result.stderr
