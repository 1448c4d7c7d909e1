"""Adapters: one module per real system, grouped by the capability it serves.

``common/`` (the process choke point, the SDK check), ``kubernetes/``, ``helm/``,
``secrets/``, ``dns/``, ``databases/``, ``images/`` (builders and registries),
``git/`` and ``memory/`` (in-process fakes). ``plugins`` finds providers through
entry points. Package ``__init__`` modules import nothing heavy: the config
schema imports ``<package>.settings``, and that must not pull in an SDK.
"""
