"""Docs are tested: every command has help text and a documented section; the
configuration reference is current; README's commands exist."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from deploytag.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def commands() -> list[str]:
    return sorted(cli.list_commands(click.Context(cli)))


@pytest.mark.parametrize("name", commands())
def test_every_command_has_help_and_a_documented_section(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    assert command.help and len(command.help.strip()) > 20
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{name} {param.opts} has no help text"
    assert f"## deploytag {name}\n" in (DOCS / "commands.md").read_text()


def test_configuration_reference_is_current() -> None:
    generated = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_config_docs.py")],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert generated.returncode == 0
    status = subprocess.run(
        ["git", "diff", "--stat", "--", "docs/configuration.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert status.stdout.strip() == "", "docs/configuration.md was stale: commit the regenerated file"


def test_readme_commands_and_links_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    for script in ("tools/example.sh", "tools/test.sh", "tools/setup.sh"):
        assert script in readme
        assert (ROOT / script).is_file()
    for line in readme.splitlines():
        if "](docs/" in line:
            target = line.split("](", 1)[1].split(")", 1)[0]
            assert (ROOT / target).is_file(), target
    ci = (ROOT / ".ci" / "run").read_text()
    assert "tools/test.sh" in ci


def test_global_options_are_documented() -> None:
    text = (DOCS / "commands.md").read_text()
    for param in cli.params:
        if isinstance(param, click.Option) and param.name not in ("version", "help"):
            assert any(opt in text for opt in param.opts), param.opts
