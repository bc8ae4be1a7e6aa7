"""Benchmark the streaming CSV import reader: lines per second and peak memory.

    python bench/bench_csv_reader.py [N] [--encoding utf-8|utf-8-sig|utf-16|cp1252] [--tracemalloc]

The upload is generated lazily behind a non-seekable binary stream, so the file (about 80 bytes
a line, 80 MB for a million lines) never exists in memory. Peak memory is the process's
maximum resident size (getrusage) before and after reading; --tracemalloc adds a second,
slower run that reports Python's own allocation peak.
"""

from __future__ import annotations

import argparse
import codecs
import io
import resource
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

WORKFLOWS = ["Card payers", "Direct\u00a0debit", "Key accounts", "Public sector", "Default"]
MANAGERS = [f"Manager.{i}@Example.com" for i in range(40)]


class GeneratedUpload(io.RawIOBase):
    """Non-seekable binary stream fed by a generator of encoded lines."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        parts, size = [self._pending], len(self._pending)
        while size < len(buffer) and (chunk := next(self._chunks, None)) is not None:
            parts.append(chunk)
            size += len(chunk)
        data = b"".join(parts)
        n = min(len(buffer), len(data))
        buffer[:n] = data[:n]
        self._pending = data[n:]
        return n


def generate(lines: int, encoding: str) -> Iterator[bytes]:
    """A realistic file: extra columns, one or two managers, NBSPs, a quoted line break."""
    # The utf-8-sig / utf-16 codecs write their BOM once, on the first encoded chunk only.
    encoder = codecs.getincrementalencoder(encoding)()
    yield encoder.encode("Name;External Id;Account manager email;Workflow name;Notes\r\n")
    for i in range(lines):
        managers = MANAGERS[i % 40] + (f", {MANAGERS[(i * 7) % 40]}" if i % 3 == 0 else "")
        notes = '"Call before\r\nnoon"' if i % 1000 == 0 else "Relancé le 3 mai"
        row = f"Customer {i};CUST-{i:07d};{managers};{WORKFLOWS[i % 5]};{notes}\r\n"
        yield encoder.encode(row)


def read_all(lines: int, encoding: str) -> tuple[int, int, float]:
    """Read a generated upload to the end: (import lines, bytes read, seconds)."""
    from hub.csvfile.reader import chunks, open_csv

    started = time.perf_counter()
    reader = open_csv(GeneratedUpload(generate(lines, encoding)), max_bytes=None)
    count = sum(len(chunk) for chunk in chunks(reader, size=1000))
    return count, reader.bytes_read, time.perf_counter() - started


def max_rss_mib() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lines", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--encoding", default="utf-8", choices=["utf-8", "utf-8-sig", "utf-16", "cp1252"])
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also measure Python's allocation peak (several times slower)",
    )
    args = parser.parse_args()
    # Run from a checkout without installing the package.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    read_all(100, args.encoding)  # warm up: imports and codecs are not the reader's memory
    rss_before = max_rss_mib()
    count, size, seconds = read_all(args.lines, args.encoding)
    print(f"lines read:      {count:,} ({size / 1e6:.1f} MB, {args.encoding})")
    print(f"time:            {seconds:.2f} s")
    print(f"throughput:      {count / seconds:,.0f} lines/s, {size / 1e6 / seconds:.1f} MB/s")
    print(f"max RSS:         {rss_before:.1f} MiB before, {max_rss_mib():.1f} MiB after")
    if args.tracemalloc:
        tracemalloc.start()
        read_all(args.lines, args.encoding)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"tracemalloc peak: {peak / 2**20:.2f} MiB")


if __name__ == "__main__":
    main()
