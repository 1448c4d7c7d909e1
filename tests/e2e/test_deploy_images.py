"""deploy with images built by the real buildah, pushed to a real registry, pinned by digest.

The example's real Dockerfile is built on the sandbox's Dockerfile.base (busybox
instead of python:3.12-slim, which cannot be pulled here), as tools/example.sh does.
"""

from __future__ import annotations

import json
import urllib.request

from e2ehelpers import COMMIT, SECRET_SENTINEL, App

from servers.fixtures import Images


def image_env(images: Images, repository: str) -> dict[str, str]:
    host = images.registry.host
    return {
        **images.env(),
        "DEPLOYTAG_BUILD__ENABLED": "true",
        "DEPLOYTAG_IMAGES__APP__REPOSITORY": f"{host}/{repository}",
        "DEPLOYTAG_IMAGES__APP__BASE_DOCKERFILE": "sandbox/Dockerfile.base",
        "DEPLOYTAG_BUILD__ARGS": json.dumps({"PYTHON_IMAGE": images.base}),
    }


def registry_digest(images: Images, name: str, tag: str) -> str:
    request = urllib.request.Request(
        f"http://{images.registry.host}/v2/{name}/manifests/{tag}",
        method="HEAD",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310  (loopback)
        return str(resp.headers["Docker-Content-Digest"])


def steps(report: dict[str, object]) -> dict[str, str]:
    return {s["name"]: s["outcome"] for s in report["steps"]}  # type: ignore[attr-defined, index]


def test_deploy_builds_pushes_and_pins_the_image_by_digest(app: App, images: Images) -> None:
    name = f"e2e-{app.helm.parent.name}/guestbook"  # one repository per helm: the registry is shared
    env = image_env(images, name)
    result = app.deploy(env=env)
    assert result.returncode == 0, result.stderr
    report = result.json()
    assert steps(report)["base"] == "changed" and steps(report)["image"] == "changed"
    built = report["images"][0]
    tag = built["tags"][0]
    assert tag.endswith("-01234567")
    digest = registry_digest(images, name, tag)
    assert built["digest"] == digest

    ns = report["namespace"]
    deployment = app.kube.store.get("deployments", ns, report["release"])
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"{images.registry.host}/{name}:{tag}@{digest}"
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
    assert images.registry.tags(f"{name}-base") == [built["base"].rsplit(":", 1)[1]]
    for stream in (result.stdout, result.stderr):
        assert SECRET_SENTINEL not in stream


def test_a_failed_build_leaves_the_cluster_untouched(app: App, images: Images) -> None:
    env = image_env(images, "e2e-broken/guestbook")
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
