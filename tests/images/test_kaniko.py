"""`deploytag build` with build.builder=kaniko: a real Job on fakekube, the real buildah and registry.

kaniko itself cannot run here (no image pulls, no cluster). fakekube runs the
build Job as a local process: the kaniko image is mapped to
servers/kaniko_standin.py, which takes kaniko's flags, clones the git context
at the commit, builds with buildah and pushes to the registry with credentials
read from the mounted docker config Secret. What DeployTag does (the Job, the
Secret (removed once the Job finished), the context URL, reading the digest back) is the real thing.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from fakekube import FakeKube
from fakekube.plugin import fakekube_module  # noqa: F401
from servers.fixtures import REGISTRY_USER, Images
from servers.registry import LocalRegistry

DEPLOYTAG = Path(sys.executable).parent / "deploytag"
STANDIN = Path(__file__).parents[1] / "servers" / "kaniko_standin.py"
KANIKO = "gcr.io/kaniko-project/executor:v1.23.2"
BRANCH = "feature/kaniko"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()


def commit_and_push(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", message)
    git(repo, "push", "-q", "origin", f"HEAD:refs/heads/{BRANCH}")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def kube(fakekube_module: FakeKube, images: Images, tmp_path: Path) -> Iterator[FakeKube]:  # noqa: F811
    fakekube_module.job_entrypoints = {
        KANIKO: [sys.executable, str(STANDIN), "--storage", str(images.storage)]
    }
    fakekube_module.run_jobs_in = tmp_path
    yield fakekube_module
    fakekube_module.run_jobs_in = None


def make_repo(root: Path, registry: LocalRegistry, base: str, name: str = "kshop", kaniko: str = "") -> Path:
    origin = root / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    repo = root / "shop"
    repo.mkdir()
    git(repo, "init", "-q", "-b", BRANCH)
    git(repo, "remote", "add", "origin", "../origin.git")  # resolved against the checkout, as git does
    (repo / "deploytag.yaml").write_text(
        f"app: shop\nimages:\n  app:\n    repository: {registry.host}/{name}\n"
        f"build:\n  builder: kaniko\n{kaniko}  args:\n    BASE_FROM: {base}\n"
    )
    (repo / "Dockerfile.base").write_text(
        "ARG BASE_FROM\nFROM ${BASE_FROM}\nCOPY requirements.txt /opt/requirements.txt\n"
    )
    (repo / "Dockerfile").write_text(
        'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY app.sh /app/app.sh\nCMD ["/bin/sh", "/app/app.sh"]\n'
    )
    (repo / ".dockerignore").write_text("secrets.local.yaml\n")
    (repo / ".gitignore").write_text("secrets.local.yaml\n")
    (repo / "requirements.txt").write_text("left-pad==1.0\n")
    (repo / "app.sh").write_text("echo hello\n")
    commit_and_push(repo, "app")
    return repo


def build(repo: Path, kube: FakeKube, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = [str(DEPLOYTAG), "--repo", str(repo), "--kubeconfig", str(kube.kubeconfig), "build"]
    argv += ["--branch", BRANCH, "--commit", git(repo, "rev-parse", "HEAD"), "-o", "json"]
    return subprocess.run(
        argv, env={**os.environ, **env}, capture_output=True, text=True, timeout=240, check=False
    )


def image(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout)["images"][0])


def kaniko_jobs(kube: FakeKube) -> list[dict[str, Any]]:
    return [
        j
        for j in kube.store.raw_list(("batch", "jobs"), "default")
        if j["metadata"]["labels"].get("deploytag.dev/job") == "kaniko"
    ]


def test_kaniko_job_builds_pushes_and_reports_the_registrys_digest(
    tmp_path: Path, kube: FakeKube, images: Images, auth_registry: LocalRegistry
) -> None:
    user, password = REGISTRY_USER
    creds = {"DEPLOYTAG_REGISTRY_USERNAME": user, "DEPLOYTAG_REGISTRY_PASSWORD": password}
    repo = make_repo(tmp_path, auth_registry, images.base)

    first = build(repo, kube, creds)
    built = image(first)
    assert (built["base_decision"], built["decision"]) == ("built", "built")
    assert built["digest"] == auth_registry.manifest_digest("kshop", built["tags"][0])
    assert auth_registry.tags("kshop") == sorted(built["tags"])
    base_tag = built["base"].rsplit(":", 1)[1]
    assert auth_registry.tags("kshop-base") == [base_tag]
    jobs = kaniko_jobs(kube)
    assert jobs and password not in json.dumps(jobs) + first.stdout + first.stderr
    args = jobs[0]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert f"--context=git://{tmp_path / 'origin.git'}#refs/heads/{BRANCH}#" in " ".join(args)

    again = image(build(repo, kube, creds))  # nothing changed: no Job, nothing pushed
    assert (again["base_decision"], again["decision"]) == ("cached", "unchanged")
    assert again["digest"] == built["digest"]

    (repo / "app.sh").write_text("echo changed\n")
    commit_and_push(repo, "change the app only")
    changed = image(build(repo, kube, creds))
    assert (changed["base_decision"], changed["decision"]) == ("cached", "built")
    assert changed["digest"] == auth_registry.manifest_digest("kshop", changed["tags"][0])
    assert changed["digest"] != built["digest"]
    assert auth_registry.tags("kshop-base") == [base_tag]

    wrong = {**creds, "DEPLOYTAG_REGISTRY_PASSWORD": "nope-wrong"}
    (repo / "app.sh").write_text("echo refused\n")
    commit_and_push(repo, "pushed with a wrong password")
    refused = build(repo, kube, wrong)
    assert refused.returncode == 14, refused.stderr
    assert "nope-wrong" not in refused.stderr + refused.stdout
    credentials = [
        s
        for s in kube.store.raw_list(("", "secrets"), "default")
        if s["metadata"].get("labels", {}).get("deploytag.dev/job") == "kaniko"
    ]
    assert credentials == []  # removed once each Job finished, failed ones included


def test_a_failing_kaniko_build_returns_the_job_log_and_pushes_nothing(
    tmp_path: Path, kube: FakeKube, images: Images
) -> None:
    registry = images.registry
    repo = make_repo(tmp_path, registry, images.base)
    (repo / "Dockerfile").write_text(
        (repo / "Dockerfile").read_text() + 'RUN ["/bin/sh", "-c", "echo boom-marker; exit 7"]\n'
    )
    commit_and_push(repo, "broken")
    failed = build(repo, kube, {})
    assert failed.returncode == 14, failed.stderr
    error = failed.stderr.split("deploytag: error: ", 1)[1]
    assert "kaniko Job default/kaniko-" in error and "boom-marker" in error
    assert "nothing was pushed" in error
    assert registry.tags("kshop") == []

    (repo / "app.sh").write_text("echo not committed\n")
    dirty = build(repo, kube, {})
    assert dirty.returncode == 3 and "app.sh has uncommitted changes" in dirty.stderr


def test_s3_context_is_the_dockerignored_working_tree_uploaded_once(
    tmp_path: Path, kube: FakeKube, images: Images, moto: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = boto3.client("s3", endpoint_url=moto)
    s3.create_bucket(Bucket="contexts")
    monkeypatch.setenv("S3_ENDPOINT", moto)  # the pod's environment: kaniko's variable for non-AWS S3
    registry = images.registry
    repo = make_repo(tmp_path, registry, images.base, "ks3", "  kaniko: {context: s3, s3_bucket: contexts}\n")
    (repo / "secrets.local.yaml").write_text("KEY: value-never-in-an-image\n")
    (repo / "app.sh").write_text("echo not committed, still sent\n")  # no git needed for s3

    built = image(build(repo, kube, {"AWS_ENDPOINT_URL": moto}))
    assert (built["base_decision"], built["decision"]) == ("built", "built")
    assert built["digest"] == registry.manifest_digest("ks3", built["tags"][0])
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="contexts")["Contents"]]
    assert len(keys) == 1 and keys[0].startswith("deploytag/contexts/")  # base and app share it
    body = s3.get_object(Bucket="contexts", Key=keys[0])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        names = tar.getnames()
        sent = tar.extractfile("app.sh")
        assert sent is not None and sent.read() == b"echo not committed, still sent\n"
    assert "secrets.local.yaml" not in names and "Dockerfile" in names

    again = image(build(repo, kube, {"AWS_ENDPOINT_URL": moto}))
    assert (again["base_decision"], again["decision"]) == ("cached", "unchanged")
