"""An import split into parts by customer: which part a line belongs to, and a part's chunks.

Every line of one customer falls in the same part (a stable hash of its external id, the same
in every process and on every machine, so a resumed import splits the file exactly as before),
and a part's chunks are applied one after the other in file order: a customer named twice still
ends with its last line. Parts share no customer, so their transactions never wait for each
other's row locks, and each part can run as a Celery task of its own, on any worker
(``hub.services.imports.run``): it reads the stored file itself and keeps its own lines.
Processes, not threads: applying a chunk is about half interpreter work, and the threads of one
process take turns at the interpreter lock. Reading the whole file in every part costs a few
microseconds a line, less than shipping the lines from one reader to the others.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence

from hub.csvfile.reader import ImportLine


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
