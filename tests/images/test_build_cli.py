"""`deploytag build` through the installed CLI with the real buildah and a real registry.

Decisions are verified through the registry's own tag list, not DeployTag's report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from servers.fixtures import REGISTRY_USER, Images
from servers.registry import LocalRegistry

DEPLOYTAG = Path(sys.executable).parent / "deploytag"
COMMIT = "89abcdef0123456789abcdef0123456789abcdef"


def make_app(root: Path, repository: str, base: str, name: str) -> Path:
    root.mkdir(parents=True)
    (root / "deploytag.yaml").write_text(
        f"app: {name}\nimages:\n  app:\n    repository: {repository}\n"
        f"build:\n  args:\n    BASE_FROM: {base}\n"
    )
    (root / "Dockerfile.base").write_text(
        "ARG BASE_FROM\nFROM ${BASE_FROM}\nCOPY requirements.txt /opt/requirements.txt\n"
        'RUN ["/bin/sh", "-c", "cp /opt/requirements.txt /opt/installed"]\n'
    )
    (root / "Dockerfile").write_text(
        'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY app.sh /app/app.sh\nCMD ["/bin/sh", "/app/app.sh"]\n'
    )
    (root / ".dockerignore").write_text("secrets.local.yaml\n*.log\n")
    (root / "requirements.txt").write_text("left-pad==1.0\n")
    (root / "app.sh").write_text("echo hello\n")
    (root / "notes.log").write_text("not part of any image\n")
    (root / "secrets.local.yaml").write_text("staging/app:\n  KEY: value-never-in-an-image\n")
    return root


def build(
    app: Path, images: Images, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **images.env(), **(env or {})}
    return subprocess.run(
        [str(DEPLOYTAG), "--repo", str(app), "build", "--branch", "feature/cart", "--commit", COMMIT, *extra],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def image(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["outcome"] == "succeeded"
    return dict(report["images"][0])


def test_base_is_built_once_per_content(tmp_path: Path, images: Images) -> None:
    reg = images.registry
    app = make_app(tmp_path / "shop", f"{reg.host}/shop", images.base, "shop")
    first = image(build(app, images, "-o", "json"))
    assert first["base_decision"] == "built"
    base_tag = first["base"].rsplit(":", 1)[1]
    assert reg.tags("shop-base") == [base_tag]
    slug = first["tags"][1]
    assert slug == "feature-cart"  # the branch feature/cart, '/' as '-' (no hash suffix needed)
    assert first["tags"] == [f"{slug}-89abcdef", slug]
    assert reg.tags("shop") == sorted(first["tags"])
    assert first["digest"].startswith("sha256:")

    (app / "notes.log").write_text("ignored by .dockerignore, not copied\n")
    (app / "app.sh").write_text("echo changed app\n")  # the app image only
    second = image(build(app, images, "-o", "json"))
    assert second["base_decision"] == "cached"
    assert second["base"] == first["base"]
    assert second["digest"] != first["digest"]
    assert reg.tags("shop-base") == [base_tag]

    unchanged = image(build(app, images, "-o", "json"))  # nothing changed: nothing built or pushed
    assert (unchanged["base_decision"], unchanged["decision"]) == ("cached", "unchanged")
    assert unchanged["digest"] == second["digest"]

    (app / "requirements.txt").write_text("left-pad==2.0\n")  # COPY'd by Dockerfile.base
    third = image(build(app, images, "-o", "json"))
    assert third["base_decision"] == "built"
    assert len(reg.tags("shop-base")) == 2
    assert third["base"].rsplit(":", 1)[1] in reg.tags("shop-base")


def test_the_production_branch_also_gets_latest(tmp_path: Path, images: Images) -> None:
    reg = images.registry
    app = make_app(tmp_path / "prod", f"{reg.host}/prod", images.base, "prod")
    result = subprocess.run(
        [str(DEPLOYTAG), "--repo", str(app), "build", "--branch", "main", "--commit", COMMIT],
        env={**os.environ, **images.env()},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert reg.tags("prod") == ["latest", "main", "main-89abcdef"]
    assert "(built)" in result.stdout and "@sha256:" in result.stdout


def test_a_failing_build_shows_the_builders_last_lines_and_pushes_nothing(
    tmp_path: Path, images: Images
) -> None:
    reg = images.registry
    app = make_app(tmp_path / "broken", f"{reg.host}/broken", images.base, "broken")
    assert image(build(app, images, "-o", "json"))["decision"] == "built"
    before = reg.tags("broken")
    (app / "Dockerfile").write_text(
        (app / "Dockerfile").read_text()
        + 'RUN ["/bin/sh", "-c", "echo compiling; echo boom-marker >&2; exit 7"]\n'
    )
    failed = build(app, images, "--commit", "fedcba9876543210fedcba9876543210fedcba98")
    assert failed.returncode == 14, failed.stderr
    error = failed.stderr.split("deploytag: error: ", 1)[1]
    assert "building Dockerfile failed" in error
    assert "boom-marker" in error and "nothing was pushed" in error
    assert reg.tags("broken") == before  # no fedcba98 tag, the old tags untouched


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda app: (app / "Dockerfile.base").unlink(), "Dockerfile.base does not exist"),
        (
            lambda app: (app / "Dockerfile.base").write_text("FROM x\nCOPPY a b\n"),
            "unknown instruction 'COPPY'",
        ),
        (
            lambda app: (app / ".env").write_text("TOKEN=abc\n"),
            "would send secret files into the image: .env",
        ),
        (
            lambda app: (app / ".dockerignore").write_text("*.log\n"),
            "would send secret files into the image: secrets.local.yaml",
        ),
        (
            lambda app: (app / "deploytag.yaml").write_text(
                (app / "deploytag.yaml").read_text() + "    NPM_TOKEN: abc\n"
            ),
            "build argument 'NPM_TOKEN' looks like a secret",
        ),
        (
            lambda app: (app / "deploytag.yaml").write_text(
                "secrets: {provider: file, ids: [staging/app], file: secrets.local.yaml}\n"
                + (app / "deploytag.yaml").read_text()
                + "    KEY: abc\n"
            ),
            "build argument 'KEY' has the name of a secret in the secret store",
        ),
    ],
)
def test_bad_input_is_one_clear_error_and_nothing_is_pushed(
    tmp_path: Path, images: Images, change: Any, message: str
) -> None:
    reg = images.registry
    app = make_app(tmp_path / "bad", f"{reg.host}/bad", images.base, "bad")
    change(app)
    result = build(app, images)
    assert result.returncode == 3, result.stderr
    assert message in result.stderr
    assert "value-never-in-an-image" not in result.stderr + result.stdout
    assert reg.tags("bad") == [] and reg.tags("bad-base") == []


@pytest.mark.parametrize("kind", ["auth_registry", "token_registry"])  # Basic, bearer token
def test_registry_login(tmp_path: Path, images: Images, kind: str, request: pytest.FixtureRequest) -> None:
    auth_registry: LocalRegistry = request.getfixturevalue(kind)
    user, password = REGISTRY_USER
    app = make_app(tmp_path / "private", f"{auth_registry.host}/private", images.base, "private")
    refused = build(
        app, images, env={"DEPLOYTAG_REGISTRY_USERNAME": user, "DEPLOYTAG_REGISTRY_PASSWORD": "nope-wrong"}
    )
    assert refused.returncode == 14
    assert "refused" in refused.stderr and "nope-wrong" not in refused.stderr
    assert auth_registry.tags("private-base") == []

    good = {"DEPLOYTAG_REGISTRY_USERNAME": user, "DEPLOYTAG_REGISTRY_PASSWORD": password}
    pushed = image(build(app, images, "-o", "json", env=good))
    assert pushed["base_decision"] == "built"
    assert auth_registry.tags("private") == sorted(pushed["tags"])
    assert password not in json.dumps(pushed)
