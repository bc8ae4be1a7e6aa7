"""Bounded heavy work per process: at most N of a kind at once, the rest answered 429 at once.

A CSV export reads every matching customer. Two hundred at once would take every web thread for
as long as they run, and /healthz (and every webhook) would wait behind them; refused at once
with Retry-After, the client tries again a moment later and the threads stay free.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from hub.errors import TooManyRequests


class Slots:
    def __init__(self, what: str, size: int) -> None:
        self.what = what
        self.size = max(1, size)
        self._semaphore = threading.BoundedSemaphore(self.size)

    @contextmanager
    def held(self) -> Iterator[None]:
        if not self._semaphore.acquire(blocking=False):
            raise TooManyRequests(f"{self.size} {self.what} already running in this process; retry shortly",
                                  retry_after=5)
        try:
            yield
        finally:
            self._semaphore.release()
