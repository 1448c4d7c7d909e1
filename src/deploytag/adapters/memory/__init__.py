"""In-process fakes for unit tests and the offline demo: ``MemoryCluster`` (entry point ``memory``).

Held to the same contract suite as the real API server (tests/contract).
"""

from deploytag.adapters.memory.cluster import MemoryCluster

__all__ = ["MemoryCluster"]
