"""One run per environment at a time: a Kubernetes Lease, renewed while we work.

A second run waits (bounded) for the first; ``--supersede`` takes the lease
over at once and the older run stops at its next step boundary. The lease is
short and renewed every third of its duration while the run works, so a killed
run's lease expires within ``cluster.lock_seconds`` and is then taken over.

``give_way`` (capabilities.ordering) tells a waiting run, and the holder between steps,
that a newer commit was requested: it stops as superseded instead of deploying
an older one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from deploytag.core.errors import LockedError
from deploytag.ports.clock import Clock
from deploytag.ports.cluster import Leases
from deploytag.ports.progress import ProgressListener

log = logging.getLogger(__name__)


class SupersededError(LockedError):
    """A newer run took our lease over (--supersede) or a newer commit was requested;
    stop without touching more."""

    retryable = False


# How often a waiting run asks again: a freed or expired lease is taken within this.
POLL_SECONDS = 1.0


def never_give_way() -> str | None:
    return None


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
        # Returns why this run should stop (a newer request), or None to carry on.
        self.give_way: Callable[[], str | None] = never_give_way

    def acquire(
        self,
        *,
        wait_seconds: float,
        supersede: bool,
        progress: ProgressListener,
        give_way: Callable[[], str | None] = never_give_way,
    ) -> None:
        self.give_way = give_way
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
            # Held by another run: record our request there, or stop for a newer one.
            reason = give_way()
            if reason is not None:
                raise SupersededError(reason)
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
            self._clock.sleep(min(POLL_SECONDS, max(0.05, deadline - self._clock.monotonic())))
        self._start_renewal()
        # Ours now: record our request on it too (runs arriving later compare with it), unless
        # a newer one was recorded while we took it; the caller's release hands it to that run.
        reason = give_way()
        if reason is not None:
            raise SupersededError(reason)

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
                try:
                    current = self._leases.get_lease(namespace=self._namespace, name=self._name)
                except Exception as e:
                    log.warning("reading lease %s failed: %s", self._name, e)
                    continue
                if current is not None and current.holder == self.holder:
                    continue  # only contended by writers of annotations: renew on the next tick
                self.lost = True
                return

    def check(self) -> None:
        """Raise when a newer run has taken the lease over or a newer commit was requested."""
        if self.lost:
            raise SupersededError(
                "a newer run took this environment over (--supersede); stopping here",
                hint="nothing to do: the newer run completes the deploy",
            )
        reason = self.give_way()
        if reason is not None:
            raise SupersededError(reason)

    def release(self, *, hand_to: str = "") -> None:
        """Give the lease up; ``hand_to`` names the waiting run we gave way to, which gets it
        directly, so no older run waiting too can slip in between."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.lost:
            return
        try:
            if hand_to and self._leases.take_over_lease(
                namespace=self._namespace,
                name=self._name,
                holder=hand_to,
                duration_seconds=self._duration,
                now=self._clock.now(),
                previous_holder=self.holder,
            ):
                return
            self._leases.release_lease(namespace=self._namespace, name=self._name, holder=self.holder)
        except Exception as e:  # the lease expires on its own; never mask the run's outcome
            log.warning("releasing lease %s failed: %s", self._name, e)
