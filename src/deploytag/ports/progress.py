"""How the service tells its caller what is happening, without knowing about terminals."""

from __future__ import annotations

from typing import Protocol


class ProgressListener(Protocol):
    def step_started(self, *, step: str) -> None: ...

    def step_finished(self, *, step: str, outcome: str, seconds: float, detail: str) -> None:
        """``outcome`` is one of: changed, unchanged, skipped, failed."""
        ...

    def note(self, *, text: str) -> None:
        """A line worth showing now (waiting for a lock, retrying, ...)."""
        ...


class SilentProgress:
    def step_started(self, *, step: str) -> None:
        pass

    def step_finished(self, *, step: str, outcome: str, seconds: float, detail: str) -> None:
        pass

    def note(self, *, text: str) -> None:
        pass
