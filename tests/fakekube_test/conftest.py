"""The fakekube fixtures for these tests (see tests/fakekube/__init__.py)."""

from fakekube.plugin import fakekube, fakekube_module

__all__ = ["fakekube", "fakekube_module"]
