"""Git: ``GitCli`` reads the checkout (branch, commit, remote) through the real ``git``."""

from deploytag.adapters.git.cli import GitCli

__all__ = ["GitCli"]
