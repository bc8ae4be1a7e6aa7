"""How hard one worker process may press one vendor connection: a bound on its API calls in
flight, and a pause for the whole connection once the vendor asked to wait.

A batch of events normalises concurrently (``hub.services.processing.fetches``): fifty Stripe
events whose payment method needs a look-up are fifty API calls. Each connection gets its own
bound (HUB_FETCH_CONCURRENCY), so one slow vendor neither floods its API nor takes every thread
from the others. When a call answers with Retry-After (a 429, a 503 that says when), every
fetch of that connection in this process is refused at once until then, as a retryable failure
carrying the rest of the wait, instead of each queued call hitting the limit again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from hub.errors import VendorUnavailable

T = TypeVar("T")


class FetchGate:
    def __init__(self, connection: str, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.connection = connection
        self._slots = threading.BoundedSemaphore(max(1, limit))
        self._clock = clock
        self._lock = threading.Lock()
        self._paused_until = 0.0

    def paused_for(self) -> float:
        """Seconds until the vendor's Retry-After has passed (0 when not paused)."""
        return max(0.0, self._paused_until - self._clock())

    def run(self, call: Callable[[], T]) -> T:
        """``call()`` in one of the connection's slots, unless the connection is paused."""
        with self._slots:
            self._refuse_while_paused()
            try:
                return call()
            except VendorUnavailable as exc:
                if exc.retry_after:
                    self._pause(float(exc.retry_after))
                raise

    def _refuse_while_paused(self) -> None:
        wait = self.paused_for()
        if wait > 0:
            raise VendorUnavailable(
                f"connection {self.connection!r} was asked by its vendor to wait; {wait:.0f} s left",
                retry_after=wait, code="vendor_paused")

    def _pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
