"""One run per environment at a time: a Kubernetes Lease, renewed while we work.

A second run waits (bounded) for the first; ``--supersede`` takes the lease
over at once and the older run stops at its next step boundary. A killed run's
lease expires after ``cluster.lock_seconds`` and is then taken over.
"""

from __future__ import annotations

import logging
import threading

from deploytag.core.errors import LockedError
from deploytag.ports.clock import Clock
from deploytag.ports.cluster import Leases
from deploytag.ports.progress import ProgressListener

log = logging.getLogger(__name__)


class SupersededError(LockedError):
    """Our lease was taken over by a newer run (--supersede); stop without touching more."""

    retryable = False


class LeaseKeeper:
    def __init__(
        self,
        *,
        leases: Leases,
        clock: Clock,
        namespace: str,
        name: str,
        holder: str,
        duration_seconds: int,
    ) -> None:
        self._leases = leases
        self._clock = clock
        self._namespace = namespace
        self._name = name
        self.holder = holder
        self._duration = duration_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False

    def acquire(self, *, wait_seconds: float, supersede: bool, progress: ProgressListener) -> None:
        deadline = self._clock.monotonic() + wait_seconds
        announced = False
        while True:
            now = self._clock.now()
            got = self._leases.try_acquire_lease(
                namespace=self._namespace,
                name=self._name,
                holder=self.holder,
                duration_seconds=self._duration,
                now=now,
            )
            if got is not None:
                break
            current = self._leases.get_lease(namespace=self._namespace, name=self._name)
            other = current.holder if current else "another run"
            if supersede and current is not None:
                taken = self._leases.take_over_lease(
                    namespace=self._namespace,
                    name=self._name,
                    holder=self.holder,
                    duration_seconds=self._duration,
                    now=now,
                    previous_holder=current.holder,
                )
                if taken is not None:
                    progress.note(text=f"superseding the run held by {other}")
                    break
                continue
            if self._clock.monotonic() >= deadline:
                raise LockedError(
                    f"environment is locked by {other} (lease {self._namespace}/{self._name})",
                    hint="wait for that run to finish, raise --lock-wait, or pass --supersede "
                    "to make this run win",
                )
            if not announced:
                progress.note(text=f"waiting up to {wait_seconds:.0f} s for {other} to finish")
                announced = True
            self._clock.sleep(min(2.0, max(0.05, deadline - self._clock.monotonic())))
        self._start_renewal()

    def _start_renewal(self) -> None:
        self._thread = threading.Thread(target=self._renew_loop, name="deploytag-lease", daemon=True)
        self._thread.start()

    def _renew_loop(self) -> None:
        interval = max(1.0, self._duration / 3)
        while not self._stop.wait(interval):
            try:
                got = self._leases.try_acquire_lease(
                    namespace=self._namespace,
                    name=self._name,
                    holder=self.holder,
                    duration_seconds=self._duration,
                    now=self._clock.now(),
                )
            except Exception as e:  # a failed renewal is retried on the next tick
                log.warning("renewing lease %s failed: %s", self._name, e)
                continue
            if got is None:
                self.lost = True
                return

    def check(self) -> None:
        """Raise when a newer run has taken the lease over."""
        if self.lost:
            raise SupersededError(
                "a newer run took this environment over (--supersede); stopping here",
                hint="nothing to do: the newer run completes the deploy",
            )

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if not self.lost:
            try:
                self._leases.release_lease(namespace=self._namespace, name=self._name, holder=self.holder)
            except Exception as e:  # the lease expires on its own; never mask the run's outcome
                log.warning("releasing lease %s failed: %s", self._name, e)
