"""An import split into parts by customer, and the parts applied side by side.

Every line of one customer falls in the same part (a stable hash of its external id, the same
in every process, so a resumed import splits the file exactly as before), and a part's chunks
are applied one after the other in file order: a customer named twice still ends with its last
line. Parts share no customer, so their transactions never wait for each other's row locks.

On PostgreSQL each part gets its own thread, hence its own connection: while one part waits for
the database the other prepares its chunk, and both database backends work at once. SQLite has
one writer at a time, so there the reading thread applies the parts in turn. Each part's queue
holds at most ``DEPTH`` chunks, so memory stays flat however large the file.
"""

from __future__ import annotations

import logging
import queue
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType

from hub.imports.reader import ImportLine

log = logging.getLogger(__name__)

DEPTH = 2  # chunks waiting per part: enough to keep a part busy while the file is read

# apply(part, lines, bytes_read) commits one chunk; False when the import is no longer this
# run's (a newer run claimed it), after which nothing more is applied.
ApplyChunk = Callable[[int, list[ImportLine], int], bool]


def part_of(line: ImportLine, parts: int) -> int:
    """The part a line belongs to: its customer's, whatever process asks."""
    return zlib.crc32((line.external_id or "").encode("utf-8")) % parts


def part_chunks(
    lines: Iterable[ImportLine], done: Sequence[int], size: int
) -> Iterator[tuple[int, list[ImportLine]]]:
    """(part, chunk) pairs: full chunks as they fill up, then each part's remainder.

    Lines a part already committed (`done`: per part, its last committed line) are skipped.
    """
    parts = len(done)
    buffers: list[list[ImportLine]] = [[] for _ in range(parts)]
    for line in lines:
        part = part_of(line, parts)
        if line.line_number <= done[part]:
            continue
        buffers[part].append(line)
        if len(buffers[part]) >= size:
            yield part, buffers[part]
            buffers[part] = []
    for part, buffer in enumerate(buffers):
        if buffer:
            yield part, buffer


class PartAppliers:
    """Applies chunks, in order within each part; stops at the first failure or lost claim.

    Used as a context manager: leaving the block waits for every submitted chunk, then raises
    the first error a part met. Chunks submitted before an error in the reading thread (a
    quote never closed, further down) are still applied, as they would be one by one.
    """

    def __init__(self, apply: ApplyChunk, parts: int, threaded: bool) -> None:
        self._apply = apply
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._superseded = False
        self._queues: list[queue.Queue[tuple[list[ImportLine], int] | None]] = []
        self._threads: list[threading.Thread] = []
        if threaded:
            for part in range(parts):
                self._queues.append(queue.Queue(maxsize=DEPTH))
                thread = threading.Thread(target=self._run, args=(part,), daemon=True,
                                          name=f"import-part-{part}")
                self._threads.append(thread)
                thread.start()

    @property
    def still_ours(self) -> bool:
        """False when a newer run took the import over and this one stopped."""
        return not self._superseded

    def submit(self, part: int, lines: list[ImportLine], bytes_read: int) -> bool:
        """Hand over a chunk; False once applying has stopped (stop reading the file)."""
        if self._stop.is_set():
            return False
        if not self._threads:
            self._apply_one(part, lines, bytes_read)
        else:
            self._queues[part].put((lines, bytes_read))  # waits while the part is DEPTH behind
        return not self._stop.is_set()

    def __enter__(self) -> PartAppliers:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for waiting in self._queues:
            waiting.put(None)
        for thread in self._threads:
            thread.join()
        if self._error is None:
            return
        if exc is None:
            raise self._error
        # The reading thread's own error propagates; a part's error must not vanish with it.
        log.error("an import part failed as well: %s", self._error, exc_info=self._error)

    def _run(self, part: int) -> None:
        waiting = self._queues[part]
        while (item := waiting.get()) is not None:
            if not self._stop.is_set():  # once stopped, drain so the reader never blocks
                try:
                    self._apply_one(part, *item)
                except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
                    self._error = self._error or exc
                    self._stop.set()

    def _apply_one(self, part: int, lines: list[ImportLine], bytes_read: int) -> None:
        if not self._apply(part, lines, bytes_read):
            self._superseded = True
            self._stop.set()
