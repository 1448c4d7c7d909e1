"""The Helm adapter: ``HelmBinary`` drives the real ``helm`` (3 or 4) through the process runner.

``binary`` is the adapter, ``cli`` the flags and error classification, ``files``
the chart and rendered-manifest files on disk.
"""

from deploytag.adapters.helm.binary import HelmBinary

__all__ = ["HelmBinary"]
