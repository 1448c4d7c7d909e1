"""What ``detect`` found in an app repository: typed records the templates are rendered from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ImageFacts:
    """One Dockerfile to build: ``name`` is the key under ``images:``."""

    name: str
    dockerfile: Path  # relative to the repository
    base_dockerfile: Path | None  # the slow-changing base beside it, when there is one
    context: Path


@dataclass(frozen=True)
class TestFacts:
    command: tuple[str, ...]
    reason: str  # what it was found from, e.g. "pytest.ini"


@dataclass(frozen=True)
class MigrationFacts:
    command: tuple[str, ...] | None  # None: migrations found but no runner recognised
    reason: str


@dataclass(frozen=True)
class RemoteFacts:
    """The git remote ``origin``, reduced to what the templates use."""

    url: str
    host: str  # github.com, gitlab.com, gitlab.example.com ...
    path: str  # owner/repo (GitLab: group/subgroup/project)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def ci(self) -> str | None:
        """The CI the remote suggests: github, gitlab, or None when the host says nothing."""
        if self.host == "github.com":
            return "github"
        if "gitlab" in self.host:
            return "gitlab"
        return None


@dataclass(frozen=True)
class RepoFacts:
    """Everything ``deploytag init`` writes from; ``looked_for`` says where each fact was sought."""

    root: Path
    app: str
    chart: Path  # relative to the repository
    other_charts: tuple[Path, ...] = ()
    values: tuple[Path, ...] = ()  # applied to every environment
    environment_values: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    images: tuple[ImageFacts, ...] = ()
    test: TestFacts | None = None
    other_tests: tuple[TestFacts, ...] = ()
    migrations: MigrationFacts | None = None
    database_engine: str | None = None  # postgres or mysql, when migrations or a driver say so
    engine_reason: str = ""
    secret_ids: tuple[str, ...] = ()  # ids in secrets.local.yaml (the file store)
    remote: RemoteFacts | None = None
