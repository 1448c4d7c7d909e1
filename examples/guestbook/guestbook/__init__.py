"""Guestbook: the small web app bundled with DeployTag as its example."""

__version__ = "0.1.0"
