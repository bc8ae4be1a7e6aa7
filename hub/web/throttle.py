"""Bounded heavy work per process: at most N of a kind at once, the rest answered 429 at once.

A CSV export reads every matching customer. Two hundred at once would take every web thread for
as long as they run, and /healthz (and every webhook) would wait behind them; refused at once
with Retry-After, the client tries again a moment later and the threads stay free.

Retry-After is spread over a few seconds: two hundred clients refused together and told the same
number would come back together, a herd every few seconds that queues /healthz behind it (seen in
bench/bench_health_under_exports.py); told 2 to 8 seconds at random, they return a few at a time.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from hub.errors import TooManyRequests

RETRY_AFTER_SECONDS = (2, 8)


class Slots:
    def __init__(self, what: str, size: int) -> None:
        self.what = what
        self.size = max(1, size)
        self._semaphore = threading.BoundedSemaphore(self.size)

    @contextmanager
    def held(self) -> Iterator[None]:
        if not self._semaphore.acquire(blocking=False):
            raise TooManyRequests(f"{self.size} {self.what} already running in this process; retry shortly",
                                  retry_after=random.randint(*RETRY_AFTER_SECONDS))
        try:
            yield
        finally:
            self._semaphore.release()
