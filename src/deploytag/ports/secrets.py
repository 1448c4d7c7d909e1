"""The SecretStore port: where an environment's variables come from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class SecretBundle:
    """Variables fetched from a store, merged in the order their ids were given.

    ``values`` never appears in repr, logs or plan output; ``versions`` maps each
    source id to the version that was read (recorded on the environment so a
    redeploy with unchanged secrets can be skipped).
    """

    values: Mapping[str, str] = field(repr=False)
    versions: Mapping[str, str] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return sorted(self.values)


class SecretStore(Protocol):
    name: str  # provider name as configured: "file", "aws", ...

    def fetch(self, *, ids: Sequence[str]) -> SecretBundle:
        """Read every id and merge them in order (later ids override earlier keys).

        Raises SecretStoreError (retryable or not) naming the id, never a value.
        """
        ...

    def describe_keys(self, *, ids: Sequence[str]) -> list[str]:
        """Key names only, for `deploytag plan`; may read the store but returns no values."""
        ...
