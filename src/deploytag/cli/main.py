"""The `deploytag` command: parse options, call one service function, render the result.

Errors are caught once, here, and mapped to an ExitStatus with a message that
says what to do next; ``--debug`` shows the traceback. Service and SDK modules
are imported inside the commands so `deploytag --help` starts fast.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Mapping
from pathlib import Path

import click

from deploytag import __version__
from deploytag.cli.state import CliState, pass_state
from deploytag.core.errors import DeployTagError, ExitStatus

# Command -> the module under deploytag.cli whose register() adds it. A run imports only its
# command's module; `--help` lists them all (tests/cli/test_lazy_commands.py keeps this current).
COMMAND_MODULES: Mapping[str, str] = {
    "init": "commands_init",
    "config": "commands_inspect",
    "lint": "commands_inspect",
    "plan": "commands_inspect",
    "render": "commands_inspect",
    "values": "commands_inspect",
    "deploy": "commands_deploy",
    "destroy": "commands_deploy",
    "list": "commands_deploy",
    "rollback": "commands_deploy",
    "status": "commands_deploy",
    "build": "commands_build",
    "dns": "commands_dns",
    "gc": "commands_fleet",
    "pin": "commands_fleet",
    "unpin": "commands_fleet",
    "sleep": "commands_fleet_sleep",
    "wake": "commands_fleet_sleep",
}


class LazyGroup(click.Group):
    """Imports a command's module the first time the command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        for name in COMMAND_MODULES:
            self._load(name)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def _load(self, name: str) -> None:
        if name not in self.commands and name in COMMAND_MODULES:
            importlib.import_module(f"deploytag.cli.{COMMAND_MODULES[name]}").register(self)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", "-V", prog_name="deploytag")
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    help="App repository holding deploytag.yaml.",
    show_default=True,
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="DEPLOYTAG_CONFIG",
    help="Configuration file (default: REPO/deploytag.yaml).",
)
@click.option("--cloud", type=str, help="Secret store provider: aws, or file (the default).")
@click.option(
    "--cloud-aws-secret-id",
    "aws_secret_ids",
    multiple=True,
    metavar="ID",
    help="AWS Secrets Manager secret id, e.g. staging/app. Repeatable; merged in order.",
)
@click.option("--kubeconfig", type=str, help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config).")
@click.option("--context", "kube_context", type=str, help="kubeconfig context.")
@click.option(
    "--cluster",
    "cluster_provider",
    type=str,
    help="Cluster provider: kubernetes (default) or memory (in-process, for dry runs).",
)
@click.option("--debug", is_flag=True, envvar="DEPLOYTAG_DEBUG", help="Log details and show tracebacks.")
@click.pass_context
def cli(
    ctx: click.Context,
    repo: Path,
    config_file: Path | None,
    cloud: str | None,
    aws_secret_ids: tuple[str, ...],
    kubeconfig: str | None,
    kube_context: str | None,
    cluster_provider: str | None,
    debug: bool,
) -> None:
    """DeployTag gives every git branch its own isolated environment on Kubernetes.

    Run `deploytag plan` to see what a deploy of the current branch would do,
    `deploytag deploy` to do it and `deploytag destroy` to remove it again.
    Documentation: docs/ in the DeployTag repository.
    """
    flags: dict[str, object] = {
        "secrets.provider": cloud,
        "secrets.ids": list(aws_secret_ids) or None,
        "cluster.kubeconfig": kubeconfig,
        "cluster.context": kube_context,
        "cluster.provider": cluster_provider,
    }
    if aws_secret_ids and cloud is None:
        flags["secrets.provider"] = "aws"
    ctx.obj = CliState(repo=repo, config_file=config_file, flags=flags, debug=debug)
    _configure_logging(debug)


def _configure_logging(debug: bool) -> None:
    """DeployTag's own warnings are shown; libraries' (urllib3 retries, botocore) only with --debug,
    since what they report reaches the user as one DeployTag error anyway. A handler filter, because
    SDKs set their loggers' levels themselves (the kubernetes client sets urllib3's to WARNING)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if not debug:
        handler.addFilter(lambda r: r.name.startswith("deploytag") or r.levelno >= logging.ERROR)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the group, map errors to exit statuses."""
    args = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in args
    if debug:
        # Accepted anywhere on the line: people add it to the end of a failing command.
        args = ["--debug", *(a for a in args if a != "--debug")]
    try:
        # A command that printed its report but failed exits through ctx.exit(status),
        # which click hands back here as the return value.
        status = cli.main(args=args, prog_name="deploytag", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("deploytag: interrupted", err=True)
        sys.exit(ExitStatus.INTERRUPTED)
    except click.ClickException as e:
        e.show()
        sys.exit(ExitStatus.USAGE if isinstance(e, click.UsageError) else ExitStatus.ERROR)
    except DeployTagError as e:
        if debug:
            raise
        click.echo(f"deploytag: error: {e}", err=True)
        sys.exit(e.exit_status)
    except KeyboardInterrupt:
        click.echo("deploytag: interrupted", err=True)
        sys.exit(ExitStatus.INTERRUPTED)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except Exception as e:
        if debug:
            raise
        _exit_if_sdk_missing(e)
        click.echo(
            f"deploytag: unexpected error: {type(e).__name__}: {e} (run with --debug for details "
            "and report it)",
            err=True,
        )
        sys.exit(ExitStatus.ERROR)
    sys.exit(status if isinstance(status, int) else ExitStatus.OK)


def _exit_if_sdk_missing(e: Exception) -> None:
    """Adapters check their SDK when a provider is built; this catches an import they did not guard."""
    if not isinstance(e, ModuleNotFoundError):
        return
    from deploytag.core.extras import install_hint

    hint = install_hint(e.name or "")
    if hint is not None:
        click.echo(f"deploytag: error: the Python package {e.name} is not installed; {hint}", err=True)
        sys.exit(ExitStatus.CONFIG)


__all__ = ["cli", "main", "pass_state"]
