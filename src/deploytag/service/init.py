"""`deploytag init`: detect the app repository, render deploytag.yaml (and a CI workflow),
and write what does not exist yet (``force``: overwrite). Nothing is written when detection
fails or the rendered configuration does not load, so a failed init leaves no files behind.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import msgspec

from deploytag.adapters.common.process import SubprocessRunner
from deploytag.adapters.git.cli import GitCli
from deploytag.core import yamlio
from deploytag.core.config.loader import load_config, parse_config
from deploytag.core.config.schema import Config
from deploytag.core.errors import DeployTagError
from deploytag.core.scaffold.ci import check_ci, ci_settings
from deploytag.core.scaffold.config_file import render_config
from deploytag.core.scaffold.detect import detect
from deploytag.core.scaffold.facts import RepoFacts
from deploytag.core.scaffold.github import WORKFLOW_PATH, render_github
from deploytag.core.scaffold.gitlab import CI_PATH, render_gitlab
from deploytag.core.scaffold.remote import parse_remote
from deploytag.ports.git import GitReader

CONFIG_PATH = "deploytag.yaml"

Action = Literal["written", "overwritten", "skipped", "would-write", "would-overwrite"]


class InitOptions(msgspec.Struct, frozen=True, kw_only=True):
    ci: str | None = None  # github or gitlab: also write that CI's workflow
    force: bool = False  # overwrite files that exist
    dry_run: bool = False  # show what would be written, write nothing
    app: str | None = None  # default: the remote's repository name, else the directory's


class InitFile(msgspec.Struct, frozen=True):
    path: str  # relative to the repository
    action: Action


@dataclass
class InitReport:
    """What init found and what it did with each file (``to_dict()``: ``-o json``)."""

    repo: Path
    facts: RepoFacts
    ci: str | None
    files: list[InitFile] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        """Every file existed and nothing was forced: the command did nothing."""
        return bool(self.files) and all(f.action == "skipped" for f in self.files)

    def detected(self) -> list[tuple[str, str]]:
        """(what, found) rows for the text output, in the order the configuration lists them."""
        f = self.facts
        rows = [("app", f.app), ("chart", str(f.chart))]
        rows += [("values", str(p)) for p in f.values]
        rows += [(f"values {env}", ", ".join(map(str, ps))) for env, ps in f.environment_values.items()]
        for image in f.images:
            base = f" on {image.base_dockerfile}" if image.base_dockerfile else ""
            rows.append((f"image {image.name}", f"{image.dockerfile}{base}"))
        rows.append(("test", " ".join(f.test.command) + f" ({f.test.reason})" if f.test else "none found"))
        if f.migrations is not None:
            command = " ".join(f.migrations.command) if f.migrations.command else "(no runner)"
            rows.append(("migrations", f"{command} ({f.migrations.reason})"))
            rows.append(("database", f"{f.database_engine} ({f.engine_reason})"))
        rows.append(("remote", f.remote.url if f.remote else "none (no git remote 'origin')"))
        return rows

    def to_dict(self) -> dict[str, Any]:
        f = self.facts
        return {
            "schema": "deploytag.init/v1",
            "repo": str(self.repo),
            "ci": self.ci,
            "files": [{"path": x.path, "action": x.action} for x in self.files],
            "detected": {
                "app": f.app,
                "chart": str(f.chart),
                "values": [str(p) for p in f.values],
                "environment_values": {k: [str(p) for p in v] for k, v in f.environment_values.items()},
                "images": [
                    {
                        "name": i.name,
                        "dockerfile": str(i.dockerfile),
                        "base_dockerfile": str(i.base_dockerfile) if i.base_dockerfile else None,
                        "context": str(i.context),
                    }
                    for i in f.images
                ],
                "test": list(f.test.command) if f.test else None,
                "migrate": list(f.migrations.command) if f.migrations and f.migrations.command else None,
                "database": f.database_engine if f.migrations else None,
                "remote": f.remote.url if f.remote else None,
            },
        }


def init(*, repo: Path, options: InitOptions, git: GitReader | None = None) -> InitReport:
    ci = check_ci(options.ci)
    git = git or GitCli(runner=SubprocessRunner())
    url = git.remote_url(repo=repo)
    facts = detect(repo, remote=parse_remote(url) if url else None, app=options.app)
    rendered = {CONFIG_PATH: render_config(facts)}
    config = _check_config(rendered[CONFIG_PATH])
    if ci is not None and (repo / CONFIG_PATH).exists() and not options.force:
        # The deploytag.yaml that stays is the one CI will read: the workflow follows its branches,
        # database and images. The file as committed, so this shell's DEPLOYTAG_* do not shape it.
        config = load_config(repo=repo, environ={}).config
    if ci == "github":
        rendered[WORKFLOW_PATH] = render_github(ci_settings(config))
    elif ci == "gitlab":
        rendered[CI_PATH] = render_gitlab(ci_settings(config))
    report = InitReport(repo=repo, facts=facts, ci=ci)
    for path, text in rendered.items():
        target = repo / path
        exists = target.exists()
        if exists and not options.force:
            report.files.append(InitFile(path, "skipped"))
        elif options.dry_run:
            report.files.append(InitFile(path, "would-overwrite" if exists else "would-write"))
        else:
            _write(target, text)
            report.files.append(InitFile(path, "overwritten" if exists else "written"))
    return report


def _check_config(text: str) -> Config:
    """The rendered file must load as it is: a template bug is DeployTag's, reported before any write."""
    try:
        return parse_config(yamlio.load(text))
    except Exception as e:
        raise DeployTagError(
            f"the deploytag.yaml init rendered does not load ({type(e).__name__}); nothing written",
            hint="report it with the output of deploytag --debug init",
        ) from e


def _write(target: Path, text: str) -> None:
    """Through a temporary file and a rename: a reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # a configuration file meant to be committed and read by CI
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
