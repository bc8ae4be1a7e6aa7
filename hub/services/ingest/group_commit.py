"""Group commit: the requests one web process serves at the same moment share one transaction.

Under gthread a process serves up to sixteen webhook requests at once. Alone, each paid a BEGIN,
two INSERTs, a NOTIFY and a COMMIT (a WAL flush): five round trips to store one row, and the
database flushed once per request. Here the first request to arrive becomes the leader: it
takes every request waiting at that moment, writes them all in one transaction and wakes the
others once it has committed; those that arrived meanwhile elect the next leader. Nobody waits
for a timer, so a lone request is written at once, and under load the batches grow with the
load. Each request still answers only after its own rows are committed: nothing is acknowledged
before it is durable.

The writer is handed the whole batch and must settle every item (a result or an error); an item
it leaves unsettled gets an error rather than a hang.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

Work = TypeVar("Work")
Result = TypeVar("Result")


@dataclass(eq=False)
class Pending(Generic[Work, Result]):
    """One request's share of a batch, settled by the writer."""

    work: Work
    result: Result | None = None
    error: BaseException | None = None
    settled: bool = False

    def settle(self, result: Result) -> None:
        self.result, self.settled = result, True

    def fail(self, error: BaseException) -> None:
        self.error, self.settled = error, True

    def outcome(self) -> Result:
        if self.error is not None:
            raise self.error
        assert self.result is not None  # noqa: S101 - settled means one of the two
        return self.result


class GroupCommit(Generic[Work, Result]):
    """Leader and followers around one condition; re-made in a forked child (gunicorn's workers),
    which must not inherit a lock or a queue from its parent."""

    def __init__(self, write: Callable[[list[Pending[Work, Result]]], None]) -> None:
        self._write = write
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._ready = threading.Condition()
        self._queue: list[Pending[Work, Result]] = []
        self._writing = False
        self.batches = 0  # for tests and benches: how many transactions served how many requests
        self.requests = 0

    def submit(self, work: Work) -> Result:
        """Returns once ``work`` is committed (with others, or alone), or raises its error."""
        if self._pid != os.getpid():
            self._reset()
        item: Pending[Work, Result] = Pending(work)
        with self._ready:
            self._queue.append(item)
            while self._writing and not item.settled:
                self._ready.wait()
            if item.settled:
                return item.outcome()
            self._writing = True
            batch, self._queue = self._queue, []
        try:
            self._write(batch)
        finally:
            for unsettled in (pending for pending in batch if not pending.settled):
                unsettled.fail(RuntimeError("the group writer left a request unsettled"))
            with self._ready:
                self._writing = False
                self.batches += 1
                self.requests += len(batch)
                self._ready.notify_all()
        return item.outcome()
