"""An import split into parts by customer, and the parts applied side by side in processes.

Every line of one customer falls in the same part (a stable hash of its external id, the same
in every process, so a resumed import splits the file exactly as before), and a part's chunks
are applied one after the other in file order: a customer named twice still ends with its last
line. Parts share no customer, so their transactions never wait for each other's row locks.

On PostgreSQL each part runs in a process of its own, forked from the run, which reads the
stored file itself and applies only its own part's lines over its own connection. Processes,
not threads: applying a chunk is about half interpreter work, and the threads of one process
take turns at the interpreter lock (measured with two parts: 10,000-12,000 lines/s on threads,
12,500-14,000 in processes; see docs/PERFORMANCE.md). Reading the whole file in every part
costs a few microseconds a line, less than shipping the lines from one reader to the others.
SQLite has one writer at a time, so there one reader applies the parts in turn.

Plain ``os.fork``, not multiprocessing: a Celery prefork child is marked daemonic, and
multiprocessing refuses to start processes from a daemonic one.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import pickle
import signal
import traceback
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NoReturn

from hub.csvfile.reader import ImportLine

log = logging.getLogger(__name__)

# work(part) applies one part and returns False when the import is no longer this run's (a
# newer run claimed it), True when the part is done.
PartWork = Callable[[int], bool]
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def part_of(line: ImportLine, parts: int) -> int:
    """The part a line belongs to: its customer's, whatever process asks."""
    return part_of_id(line.external_id, parts)


def part_of_id(external_id: str | None, parts: int) -> int:
    return zlib.crc32((external_id or "").encode("utf-8")) % parts


def part_chunks(
    lines: Iterable[ImportLine], done: Sequence[int], size: int, only: int | None = None
) -> Iterator[tuple[int, list[ImportLine]]]:
    """(part, chunk) pairs: full chunks as they fill up, then each part's remainder.

    Lines a part already committed (`done`: per part, its last committed line) are skipped,
    and so are the other parts' lines when `only` names one part.
    """
    parts = len(done)
    buffers: list[list[ImportLine]] = [[] for _ in range(parts)]
    for line in lines:
        part = part_of(line, parts)
        if line.line_number <= done[part] or (only is not None and part != only):
            continue
        buffers[part].append(line)
        if len(buffers[part]) >= size:
            yield part, buffers[part]
            buffers[part] = []
    for part, buffer in enumerate(buffers):
        if buffer:
            yield part, buffer


def can_fork() -> bool:
    return hasattr(os, "fork")


def apply_in_processes(work: PartWork, parts: int, after_fork: Callable[[], None]) -> bool:
    """Run ``work(part)`` for every part, each in a forked child; True when every part finished
    as this run's.

    `after_fork` runs first in each child (to drop the connections it inherited). Every child is
    waited for; then the first error a part met is raised in this process, with the child's
    traceback as a note, and the others are logged. A child that dies without a word (killed,
    out of memory) is an error too. Parts are independent: one failing does not stop the
    others, whose committed chunks a later run skips like any other.
    """
    children: list[_Child] = []
    try:
        for part in range(parts):
            children.append(_fork(work, part, after_fork))
    finally:  # even when a fork fails, the children already started are waited for
        outcomes = [_outcome(child) for child in children]
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    for extra in errors[1:]:
        log.error("another import part failed as well: %r", extra)
    if errors:
        raise errors[0]
    return all(outcomes)


@dataclass(frozen=True)
class _Child:
    part: int
    pid: int
    result: int  # the read end of the pipe the child writes its pickled outcome to


def _fork(work: PartWork, part: int, after_fork: Callable[[], None]) -> _Child:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        _run_part(work, part, after_fork, write_end, parent=os.getppid())
    os.close(write_end)
    return _Child(part, pid, read_end)


def _run_part(
    work: PartWork, part: int, after_fork: Callable[[], None], result: int, parent: int
) -> NoReturn:
    """The child's whole life: apply the part, report the outcome, exit without cleanup (the
    parent's atexit handlers, test fixtures and open files are the parent's business)."""
    code = 0
    outcome: bool | BaseException = False
    try:
        _end_with_the_run()
        if os.getppid() == parent:  # else the run ended before this child could ask to end with it
            after_fork()
            outcome = work(part)
        log.info("import part %s done in process %s (forked from %s)", part, os.getpid(), parent)
    except BaseException as exc:  # noqa: BLE001 - handed to the parent
        exc.add_note(f"in import part {part} (process {os.getpid()}):\n{traceback.format_exc()}")
        outcome, code = exc, 1
    try:
        try:
            payload = pickle.dumps(outcome)
            pickle.loads(payload)  # noqa: S301 - some exceptions pickle but cannot be rebuilt
        except Exception:  # noqa: BLE001 - an exception that cannot travel is described instead
            payload = pickle.dumps(RuntimeError(f"import part {part} failed: {outcome!r}"))
        with os.fdopen(result, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(code)


def _end_with_the_run() -> None:
    """Let the kernel end this child when the run that forked it ends (Linux), and let SIGTERM
    end it at once: a worker's own signal handlers belong to the worker."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _outcome(child: _Child) -> bool | BaseException:
    with os.fdopen(child.result, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(child.pid, 0)
    if payload:
        try:
            outcome: bool | BaseException = pickle.loads(payload)  # noqa: S301 - our own child's
        except Exception as exc:  # noqa: BLE001 - the child checks; this is the safety net
            return RuntimeError(f"import part {child.part} sent a result that could not be "
                                f"read: {exc!r}")
        return outcome
    how = (f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
           else f"exit status {os.waitstatus_to_exitcode(status)}")
    return RuntimeError(f"import part {child.part} ended without a result ({how})")
