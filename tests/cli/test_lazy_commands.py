"""The CLI imports only the invoked command's module, and its table names every command."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click

from deploytag.cli.main import COMMAND_MODULES


def test_the_table_matches_what_each_module_registers() -> None:
    registered: dict[str, str] = {}
    for module in sorted(set(COMMAND_MODULES.values())):
        group = click.Group()
        importlib.import_module(f"deploytag.cli.{module}").register(group)
        registered.update(dict.fromkeys(group.commands, module))
    assert registered == dict(COMMAND_MODULES)


def test_a_command_imports_only_its_own_module() -> None:
    code = (
        "import sys\n"
        "from deploytag.cli.main import main\n"
        "try:\n"
        "    main(['plan', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('deploytag.cli.commands_')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert proc.stdout.strip().splitlines()[-1] == "['deploytag.cli.commands_inspect']"


def test_help_lists_every_command() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "deploytag", "--help"], capture_output=True, text=True, check=True, timeout=60
    )
    listed = {line.split()[0] for line in proc.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(COMMAND_MODULES)


def test_an_unknown_command_is_a_usage_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "deploytag", "deplyo"], capture_output=True, text=True, check=False, timeout=60
    )
    assert proc.returncode == 2 and "No such command 'deplyo'" in proc.stderr
