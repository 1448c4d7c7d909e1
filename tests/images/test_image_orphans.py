"""The orphan sweep's image part on a real docker-registry: tags of destroyed branches go, but only
where no live environment uses the digest, no tag of that digest must stay ("latest", a live
environment's), the image carries DeployTag's inputs label, and it is older than min_age."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tinyimage import push_tiny_image

from deploytag.adapters.images.registry_auth import NoCredentials
from deploytag.adapters.images.registry_v2 import RegistryV2
from deploytag.adapters.memory.cluster import MemoryCluster
from deploytag.core.timestamps import rfc3339
from deploytag.service import orphans
from fleetsetup import configured, example_repo, live_environment, new_app
from servers.registry import LocalRegistry

OURS = {"dev.deploytag.inputs": "sha256:inputs"}
OLD = "2026-01-01T00:00:00Z"


def test_tags_of_destroyed_branches_are_removed_only_where_no_live_digest_or_tag_needs_them(
    registry: LocalRegistry, tmp_path: Path
) -> None:
    cluster, app = MemoryCluster(), new_app()
    repo = example_repo(tmp_path)
    config = repo / "deploytag.yaml"
    repository = f"{registry.host}/{app}"
    config.write_text(config.read_text().replace("registry.example.com/guestbook", repository))
    client = RegistryV2(credentials=NoCredentials(), insecure_hosts=["127.0.0.1"])
    loaded, providers = configured(repo, app=app, cluster=cluster)
    providers.registry_factory = lambda: client

    def push(tags: list[str], *, labels: dict[str, str] = OURS, created: str = OLD, marker: str = "") -> str:
        return push_tiny_image(
            registry.host, app, tags, labels={**labels, "n": marker or tags[0]}, created=created
        )

    live = push(["feature-live-0123abcd", "feature-live"])
    gone = push(["feature-gone-1111aaaa", "feature-gone"])
    push(["feature-main-2222bbbb", "latest"])  # "latest" keeps the whole digest
    push(["manual"], labels={})  # not built by DeployTag
    push(["feature-new-3333cccc"], created=rfc3339(time.time()))  # may be a deploy that just pushed
    record = {
        "app": {"commit": "0123abcd", "digest": live, "tags": ["feature-live-0123abcd", "feature-live"]}
    }
    live_environment(cluster, loaded, "feature/live", {"deploytag.dev/images": json.dumps(record)})
    # An older tag of the live branch pointing at the very image it runs: the digest stays.
    push_tiny_image(
        registry.host,
        app,
        ["feature-live-0000eeee"],
        labels={**OURS, "n": "feature-live-0123abcd"},
        created=OLD,
    )

    found = orphans.find_orphans(loaded=loaded, providers=providers, kinds=frozenset({orphans.IMAGE_TAG}))
    assert [(o.name, o.version) for o in found] == [
        (f"{repository}:feature-gone", gone),
        (f"{repository}:feature-gone-1111aaaa", gone),
    ]
    results = orphans.remove_orphans(loaded=loaded, providers=providers, orphans=found)
    assert [(r.removed, r.error) for r in results] == [(True, ""), (True, "")]
    assert client.tags(repository=repository) == sorted(
        [
            "feature-live",
            "feature-live-0000eeee",
            "feature-live-0123abcd",
            "feature-main-2222bbbb",
            "feature-new-3333cccc",
            "latest",
            "manual",
        ]
    )
    assert client.manifest_digest(repository=repository, tag="feature-live") == live
