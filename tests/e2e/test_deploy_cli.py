"""deploy / list / redeploy / destroy through the CLI, with the real helm, on the real cluster and node.

What DeployTag did is read back from the API server (kubeapi.Kube), not from its report."""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from e2ehelpers import COMMIT, SECRET_SENTINEL, App, Result

MANAGED = "app.kubernetes.io/managed-by"

# The branch database's connection variables, merged into the environment's Secret.
DB_KEYS = [
    "DATABASE_HOST",
    "DATABASE_NAME",
    "DATABASE_PASSWORD",
    "DATABASE_PORT",
    "DATABASE_URL",
    "DATABASE_USER",
]


def test_deploy_creates_the_environment_and_records_it(app: App) -> None:
    result = app.deploy()
    assert result.returncode == 0, result.stderr
    report = result.json()
    assert report["outcome"] == "succeeded"
    ns = report["namespace"]
    assert ns == f"{app.name}-feature-login"  # '/' -> '-' alone adds no hash suffix
    assert [s["name"] for s in report["steps"]] == [
        "test",
        "base",
        "image",
        "namespace",
        "quota",
        "database",
        "secrets",
        "migrate",
        "release",
        "expose",
        "dns",
        "verify",
    ]
    assert report["revision"] == 1

    namespace = app.kube.store.get("namespaces", None, ns)
    assert namespace["metadata"]["labels"][MANAGED] == "deploytag"
    notes = namespace["metadata"]["annotations"]
    assert notes["deploytag.dev/branch"] == "feature/login"
    assert notes["deploytag.dev/commit"] == COMMIT
    assert notes["deploytag.dev/outcome"] == "succeeded"
    assert notes["deploytag.dev/revision"] == "1"
    assert "staging/app" in notes["deploytag.dev/secret-versions"]

    secret = app.kube.store.get("secrets", ns, f"{app.name}-env")
    data = secret.get("data") or {}
    assert sorted(data) == [*DB_KEYS, "SECRET_KEY"]
    assert base64.b64decode(data["SECRET_KEY"]).decode() == SECRET_SENTINEL
    deployment = app.kube.store.get("deployments", ns, report["release"])
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    # The image DeployTag built, pinned by the digest it pushed.
    tagged, _, digest = container["image"].partition("@")
    assert tagged.endswith(":feature-login-01234567")
    assert digest.startswith("sha256:")
    assert {"secretRef": {"name": f"{app.name}-env"}} in container.get("envFrom", [])
    assert deployment["status"].get("readyReplicas") == 1  # the kubelet's readiness probe passed
    assert serves(app, ns), "the app's pod does not answer on its pod IP"
    assert app.kube.store.get("resourcequotas", ns, "deploytag-default") is not None
    assert app.kube.store.get("limitranges", ns, "deploytag-default") is not None
    assert any(url.startswith("http://") for url in report["urls"])

    listed = app.run("list", "-o", "json").json()["environments"]
    assert [
        (e["namespace"], e["branch"], e["outcome"]) for e in listed if e["namespace"].startswith(app.name)
    ] == [(ns, "feature/login", "succeeded")]
    for stream in (result.stdout, result.stderr):
        assert SECRET_SENTINEL not in stream


def serves(app: App, namespace: str) -> bool:
    """GET / from the app's running pod, straight to its IP (the host is on the pod bridge)."""
    for pod in app.kube.store.list("pods", namespace):
        status = pod.get("status") or {}
        owners = {ref["kind"] for ref in pod["metadata"].get("ownerReferences", [])}
        if "ReplicaSet" not in owners or status.get("phase") != "Running" or not status.get("podIP"):
            continue  # the migration Job's pod, or one already going away
        ip = status["podIP"]
        with urllib.request.urlopen(f"http://{ip}:8080/", timeout=5) as resp:
            return resp.status == 200 and b"<" in resp.read()
    return False


def test_redeploy_with_nothing_changed_skips_helm(app: App) -> None:
    first = app.deploy()
    assert first.returncode == 0, first.stderr
    ns = first.json()["namespace"]
    records_before = app.kube.release_records(ns)
    started = time.monotonic()
    again = app.deploy()
    elapsed = time.monotonic() - started
    assert again.returncode == 0, again.stderr
    report = again.json()
    assert report["outcome"] == "unchanged"
    steps = {s["name"]: s["outcome"] for s in report["steps"]}
    assert steps["release"] == "unchanged" and steps["verify"] == "skipped"
    assert report["revision"] == 1
    assert app.kube.release_records(ns) == records_before  # no new helm release record
    assert elapsed < 30


def test_changed_values_make_a_new_revision(app: App) -> None:
    assert app.deploy().returncode == 0
    report = app.deploy("feature/login", "--set", "replicaCount=2").json()
    assert report["outcome"] == "succeeded" and report["revision"] == 2


def test_failed_rollout_prints_a_digest_and_atomic_rolls_back(app: App) -> None:
    assert app.deploy().returncode == 0
    # The app refuses a bad setting at start-up and exits 1: the kubelet restarts it with back-off.
    # --timeout also bounds helm's rollback, which waits for the crashing pod to go.
    failed = app.deploy("feature/login", "--set", "env.MAX_ENTRIES=lots", "--atomic", "--timeout", "25")
    assert failed.returncode == 11, failed.stderr
    report = failed.json()
    assert report["outcome"] == "failed"
    digest = report["digest"]
    # A real kubelet says "CrashLoopBackOff" only between restarts: the digest reads the restart
    # count, the last run's reason and exit code, the BackOff events and the container's own log.
    assert "restarted " in digest and "Error (exit code 1)" in digest, digest
    assert "Back-off restarting failed container" in digest, digest
    assert "guestbook: MAX_ENTRIES must be an integer, got 'lots'" in digest, digest
    assert "rolled back to revision 1" in report["error"]
    ns = report["namespace"]
    deployment = app.kube.store.get("deployments", ns, report["release"])
    env = deployment["spec"]["template"]["spec"]["containers"][0].get("env", [])
    assert {"name": "MAX_ENTRIES", "value": "lots"} not in env
    notes = app.kube.store.get("namespaces", None, ns)["metadata"]["annotations"]
    assert notes["deploytag.dev/outcome"] == "failed"
    # The next deploy must not be skipped as "unchanged" after a failure.
    assert app.deploy().json()["outcome"] == "succeeded"


@pytest.mark.parametrize("where", ["unknown-registry", "missing-from-registry"])
def test_image_pull_failure_without_atomic_is_explained(app: App, where: str) -> None:
    registry = app.build_env["DEPLOYTAG_IMAGES__APP__REPOSITORY"].split("/", 1)[0]
    repository = {
        "unknown-registry": "registry.invalid/doesnotexist",
        "missing-from-registry": f"{registry}/deploytag-e2e/not-pushed",
    }[where]
    failed = app.deploy(
        "feature/pull", "--set", f"image.repository={repository}", "--set", "image.digest=", "--timeout", "10"
    )
    assert failed.returncode == 11
    digest = failed.json()["digest"]
    assert "ImagePullBackOff" in digest or "ErrImagePull" in digest, digest
    assert repository in digest


def test_memory_limit_exceeded_is_explained_as_oom_killed(app: App) -> None:
    limits = ("--set", "resources.limits.memory=6Mi", "--set", "resources.requests.memory=6Mi")
    failed = app.deploy("feature/oom", *limits, "--timeout", "15")
    assert failed.returncode == 11
    digest = failed.json()["digest"]
    assert "OOMKilled (exit code 137)" in digest, digest
    assert "raise resources.limits.memory" in digest


def test_destroy_removes_everything_and_is_idempotent(app: App) -> None:
    deployed = app.deploy().json()
    ns = deployed["namespace"]
    result = app.run("destroy", "--branch", "feature/login", "-o", "json")
    assert result.returncode == 0, result.stderr
    report = result.json()
    assert report["outcome"] == "removed"
    assert all(r["verified_gone"] for r in report["removed"])
    assert {r["what"] for r in report["removed"]} == {
        "dns record",
        "helm release",
        "database",
        "database role",
        "namespace",
        "lease",
    }
    # Verified by listing the API, not by trusting the report: no namespace, no lease, no release.
    assert app.kube.store.get("namespaces", None, ns) is None
    assert app.kube.namespaces(f"{app.name}-") == []
    assert all(
        not lease["metadata"]["name"].endswith(ns) for lease in app.kube.store.list("leases", "default")
    )
    assert app.kube.store.list("pods", ns) == [] and app.kube.release_records(ns) == []
    again = app.run("destroy", "--branch", "feature/login", "-o", "json")
    assert again.returncode == 0 and again.json()["outcome"] == "absent"
    listed = app.run("list", "-o", "json").json()["environments"]
    assert [e for e in listed if e["namespace"].startswith(f"{app.name}-")] == []


def test_deploy_and_destroy_refuse_a_namespace_that_is_not_ours(app: App) -> None:
    plan = app.run("plan", "--branch", "feature/other", "--no-render", "-o", "json").json()
    ns = plan["namespace"]
    app.kube.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    destroyed = app.run("destroy", "--branch", "feature/other")
    assert destroyed.returncode == 4
    assert "not managed by DeployTag" in destroyed.stderr
    deployed = app.deploy("feature/other")
    assert deployed.returncode == 4
    assert "--adopt" in deployed.json()["error"]
    assert app.kube.store.get("namespaces", None, ns) is not None
    assert "annotations" not in app.kube.store.get("namespaces", None, ns)["metadata"]


def test_second_run_waits_for_the_lease_then_supersede_wins(app: App) -> None:
    deployed = app.deploy().json()
    lease_name = f"deploytag-{deployed['namespace']}"
    app.kube.store.create(
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": lease_name, "namespace": "default"},
            "spec": {
                "holderIdentity": "someone-else",
                "leaseDurationSeconds": 3600,
                "renewTime": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
            },
        },
    )
    blocked = app.deploy("feature/login", "--force", "--lock-wait", "1")
    assert blocked.returncode == 12
    assert "locked by someone-else" in blocked.json()["error"]
    assert "--supersede" in blocked.json()["error"]
    won = app.deploy("feature/login", "--force", "--supersede")
    assert won.returncode == 0, won.stderr
    assert "superseding" in won.stderr


def test_run_killed_at_any_point_converges_when_run_again(app: App) -> None:
    for delay in (0.3, 0.8, 1.5):
        proc = app.popen(
            "deploy",
            "--branch",
            "feature/kill",
            "--commit",
            COMMIT,
            "--skip-tests",
            "--set",
            f"podAnnotations.try=t{delay}",
            "--lock-wait",
            "120",
        )
        time.sleep(delay)
        proc.kill()
        proc.wait()
        # The killed run's lease blocks until it expires; --supersede is how CI recovers at once.
        result = app.deploy("feature/kill", "--supersede")
        assert result.returncode == 0, result.stderr
        assert result.json()["outcome"] in ("succeeded", "unchanged")


def test_branch_without_rule_is_skipped(app: App) -> None:
    result = app.run("deploy", "--branch", "chore/deps", "--commit", COMMIT)
    assert result.returncode == 0
    assert result.stdout.strip().startswith("skip:")
    assert app.kube.namespaces(f"{app.name}-") == []


@pytest.mark.parametrize(
    ("config", "status", "words"),
    [
        ("chrt: {}\n", 3, "chrt: unknown key"),
        ("chart: {path: nowhere}\n", 6, "no Helm chart at"),
        ("dns: {records: ['{.Brnch}-x']}\n", 4, "unknown placeholder {.Brnch}"),
    ],
)
def test_bad_input_is_one_line_with_distinct_status_and_no_side_effects(
    app: App, config: str, status: int, words: str
) -> None:
    (app.repo / "deploytag.yaml").write_text(f"app: {app.name}\n{config}")
    result = app.deploy()
    assert result.returncode == status, (result.stdout, result.stderr)
    message = (result.json()["error"] if result.stdout.strip().startswith("{") else result.stderr).strip()
    assert words in message
    assert len(message.splitlines()) == 1
    assert app.kube.namespaces(f"{app.name}-") == []


def test_secrets_from_aws_secrets_manager(app: App, moto: str, sm: Any) -> None:
    first = sm.create_secret(
        Name="staging/app", SecretString=json.dumps({"API_KEY": SECRET_SENTINEL, "MODE": "x"})
    )
    sm.create_secret(Name="staging/extra", SecretString="plain-string-value")

    def deploy_with_aws(*extra: str) -> Result:
        ids = ["--cloud-aws-secret-id", "staging/app", "--cloud-aws-secret-id", "staging/extra"]
        return app.run(
            "--cloud",
            "aws",
            *ids,
            "deploy",
            "--branch",
            "feature/aws",
            "--commit",
            COMMIT,
            "--skip-tests",
            "-o",
            "json",
            *extra,
            env={"AWS_ENDPOINT_URL": moto},
        )

    result = deploy_with_aws("--debug")
    assert result.returncode == 0, result.stderr
    report = result.json()
    secret = app.kube.store.get("secrets", report["namespace"], f"{app.name}-env")
    assert sorted(secret["data"]) == sorted(["API_KEY", "EXTRA", "MODE", *DB_KEYS])
    notes = app.kube.store.get("namespaces", None, report["namespace"])["metadata"]["annotations"]
    versions = json.loads(notes["deploytag.dev/secret-versions"])
    assert versions["staging/app"] == first["VersionId"]
    assert SECRET_SENTINEL not in result.stdout + result.stderr  # --debug logs included
    # A new secret version is picked up by the next deploy, without any other change.
    sm.put_secret_value(
        SecretId="staging/app", SecretString=json.dumps({"API_KEY": "rotated-value-1", "MODE": "x"})
    )
    again = deploy_with_aws().json()
    steps = {s["name"]: s["outcome"] for s in again["steps"]}
    assert steps["secrets"] == "changed"
    assert again["revision"] == 2


def test_killed_runs_lease_is_taken_over_after_it_expires(app: App) -> None:
    env = {"DEPLOYTAG_CLUSTER__LOCK_SECONDS": "5"}
    proc = app.popen("deploy", "--branch", "feature/expire", "--commit", COMMIT, "--skip-tests", env=env)

    def ours() -> list[dict[str, Any]]:
        return [
            lease
            for lease in app.kube.store.list("leases", "default")
            if lease["metadata"]["name"].startswith(f"deploytag-{app.name}-")
        ]

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not ours():
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    started = time.monotonic()
    result = app.deploy("feature/expire", "--lock-wait", "30", env=env)
    assert result.returncode == 0, result.stderr
    waited = time.monotonic() - started
    leases_left = ours()
    if leases_left or waited < 1:
        pytest.skip("the killed run had already released its lease")  # it finished before the kill
    assert "waiting up to 30 s" in result.stderr


@pytest.mark.parametrize(
    ("quota", "words"),
    [
        ("false", ["Pending, unschedulable", "Insufficient cpu"]),  # the real scheduler's reason
        ("true", ["exceeded quota: deploytag-default", "FailedCreate"]),  # the API server's admission
    ],
    ids=["scheduler", "quota"],
)
def test_unschedulable_pod_is_explained_with_the_schedulers_reason(
    app: App, quota: str, words: list[str]
) -> None:
    failed = app.deploy(
        "feature/big",
        "--set",
        "resources.requests.cpu=500",
        "--set",
        "resources.limits.cpu=500",
        "--timeout",
        "5",
        env={"DEPLOYTAG_CLUSTER__QUOTA__ENABLED": quota},
    )
    assert failed.returncode == 11
    digest = failed.json()["digest"]
    for word in words:
        assert word in digest, digest


def test_quota_has_an_off_switch(app: App) -> None:
    ns = app.deploy().json()["namespace"]
    assert app.kube.store.get("resourcequotas", ns, "deploytag-default") is not None
    result = app.deploy("feature/login", env={"DEPLOYTAG_CLUSTER__QUOTA__ENABLED": "false"})
    assert result.returncode == 0, result.stderr
    assert {s["name"]: s["outcome"] for s in result.json()["steps"]}["quota"] == "skipped"
    assert app.kube.store.get("resourcequotas", ns, "deploytag-default") is None
    assert app.kube.store.get("limitranges", ns, "deploytag-default") is None
    again = app.deploy("feature/login")  # switched back on: recreated, not "as recorded"
    assert again.returncode == 0
    assert app.kube.store.get("resourcequotas", ns, "deploytag-default") is not None


def test_unreachable_cluster_is_one_line_with_the_cluster_status(app: App, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "dead-kubeconfig"
    kubeconfig.write_text(app.kube.kubeconfig.read_text().replace(app.kube.url, "http://127.0.0.1:9"))
    result = app.run(
        "--kubeconfig",
        str(kubeconfig),
        "deploy",
        "--branch",
        "feature/x",
        "--commit",
        COMMIT,
        "--skip-tests",
        "--lock-wait",
        "0",
    )
    assert result.returncode == 8, result.stderr
    assert result.stderr.startswith("deploytag: error: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_apps_tests_gate_the_deploy(app: App) -> None:
    passed = app.run("deploy", "--branch", "feature/tested", "--commit", COMMIT, "-o", "json")
    assert passed.returncode == 0, passed.stderr
    steps = {s["name"]: s for s in passed.json()["steps"]}
    assert steps["test"]["outcome"] == "changed"
    assert steps["test"]["detail"].startswith("passed in ")
    config = app.repo / "deploytag.yaml"
    original = '["python", "-m", "unittest", "discover", "-s", "tests"]'
    assert original in config.read_text()
    config.write_text(config.read_text().replace(original, "[python, -c, 'raise SystemExit(3)']"))
    failed = app.run("deploy", "--branch", "feature/untested", "--commit", COMMIT, "-o", "json")
    assert failed.returncode == 11, failed.stderr
    assert "tests failed" in failed.json()["error"]
    assert "--skip-tests" in failed.json()["error"]
    untested = app.run("plan", "--branch", "feature/untested", "--no-render", "-o", "json").json()[
        "namespace"
    ]
    assert app.kube.store.get("namespaces", None, untested) is None
