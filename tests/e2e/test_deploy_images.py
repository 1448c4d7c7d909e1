"""deploy with images built by the real buildah, pushed to the node's registry, pinned by digest, run.

The example's real Dockerfile is built on the sandbox's Dockerfile.base FROM the session's
Python base made from Debian packages (python:3.12-slim cannot be pulled here); the node
pulls the result by digest and runs it.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from e2ehelpers import COMMIT, SECRET_SENTINEL, App


def registry_of(app: App) -> str:
    return app.build_env["DEPLOYTAG_IMAGES__APP__REPOSITORY"].split("/", 1)[0]


def image_env(app: App, repository: str) -> dict[str, str]:
    """Its own repository (and so its own base): this test sees the base built, not found."""
    return {"DEPLOYTAG_IMAGES__APP__REPOSITORY": f"{registry_of(app)}/{repository}"}


def registry_digest(registry: str, name: str, tag: str) -> str:
    request = urllib.request.Request(
        f"http://{registry}/v2/{name}/manifests/{tag}",
        method="HEAD",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310  (loopback)
        return str(resp.headers["Docker-Content-Digest"])


def registry_tags(registry: str, name: str) -> list[str]:
    with urllib.request.urlopen(f"http://{registry}/v2/{name}/tags/list", timeout=5) as resp:
        return sorted(json.load(resp).get("tags") or [])


def steps(report: dict[str, Any]) -> dict[str, str]:
    return {s["name"]: s["outcome"] for s in report["steps"]}


def test_deploy_builds_pushes_and_pins_the_image_by_digest(app: App) -> None:
    name = f"deploytag-e2e-{app.name}/guestbook"  # one repository per test: the registry is shared
    env = image_env(app, name)
    registry = registry_of(app)
    result = app.deploy(env=env)
    assert result.returncode == 0, result.stderr
    report = result.json()
    assert steps(report)["base"] == "changed" and steps(report)["image"] == "changed"
    built = report["images"][0]
    tag = built["tags"][0]
    assert tag.endswith("-01234567")
    digest = registry_digest(registry, name, tag)
    assert built["digest"] == digest

    ns = report["namespace"]
    deployment = app.kube.store.get("deployments", ns, report["release"])
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"{registry}/{name}:{tag}@{digest}"
    assert deployment["status"].get("readyReplicas") == 1  # the node pulled it by digest and runs it
    notes = app.kube.store.get("namespaces", None, ns)["metadata"]["annotations"]
    recorded = json.loads(notes["deploytag.dev/images"])["app"]
    assert recorded["digest"] == digest and recorded["commit"] == COMMIT
    assert notes["deploytag.dev/tests"] == "skipped"  # deployed with --skip-tests

    again = app.deploy(env=env).json()
    assert again["outcome"] == "unchanged"
    assert steps(again) == {
        "test": "skipped",
        "base": "unchanged",
        "image": "unchanged",
        "namespace": "unchanged",
        "quota": "unchanged",
        "database": "unchanged",
        "secrets": "unchanged",
        "migrate": "unchanged",  # this commit was migrated already
        "release": "unchanged",
        "expose": "unchanged",
        "dns": "unchanged",
        "verify": "skipped",
    }
    assert registry_tags(registry, f"{name}-base") == [built["base"].rsplit(":", 1)[1]]
    for stream in (result.stdout, result.stderr):
        assert SECRET_SENTINEL not in stream


def test_a_failed_build_leaves_the_cluster_untouched(app: App) -> None:
    env: dict[str, str] = {}  # the session's repository: its base is there already
    dockerfile = app.repo / "Dockerfile"
    dockerfile.write_text(
        dockerfile.read_text() + 'RUN ["/bin/sh", "-c", "echo no-python-here >&2; exit 3"]\n'
    )
    result = app.deploy("feature/broken-build", env=env)
    assert result.returncode == 14
    assert "no-python-here" in result.json()["error"]
    namespace = app.run("plan", "--branch", "feature/broken-build", "--no-render", "-o", "json").json()[
        "namespace"
    ]
    assert app.kube.store.get("namespaces", None, namespace) is None
