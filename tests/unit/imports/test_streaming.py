"""Memory stays flat however long the upload: 200,000 lines read with a small peak."""

from __future__ import annotations

import tracemalloc

from hub.csvfile.reader import chunks, open_csv

LINES = 200_000
PEAK_LIMIT = 20 * 1024 * 1024


def test_reading_a_large_upload_keeps_memory_flat(upload_class, lines_generator):
    tracemalloc.start()
    try:
        reader = open_csv(upload_class(lines_generator(LINES)), max_bytes=None)
        count = last = 0
        for chunk in chunks(reader, size=1000):
            count += len(chunk)
            last = chunk[-1].line_number
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == LINES and last == LINES + 1
    assert reader.bytes_read > 10 * 1024 * 1024  # the upload really was big...
    assert peak < PEAK_LIMIT  # ...and never held whole


def test_peak_does_not_grow_with_the_number_of_lines(upload_class, lines_generator):
    def peak_for(lines: int) -> int:
        tracemalloc.start()
        try:
            for _ in open_csv(upload_class(lines_generator(lines)), max_bytes=None):
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak_for(2_000), peak_for(40_000)

    assert large < small * 1.5 + 256 * 1024
