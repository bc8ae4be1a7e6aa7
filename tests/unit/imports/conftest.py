"""Helpers for the CSV import tests: uploads built in memory or generated lazily."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator

import pytest

from hub.csvfile.reader import CsvImportReader, open_csv


class GeneratedUpload(io.RawIOBase):
    """A non-seekable binary stream fed by a generator: a huge upload that never exists whole."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        super().__init__()
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        parts, size = [self._pending], len(self._pending)
        while size < len(buffer):
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            parts.append(chunk)
            size += len(chunk)
        data = b"".join(parts)
        n = min(len(buffer), len(data))
        buffer[:n] = data[:n]
        self._pending = data[n:]
        return n


def generated_lines(count: int, header: bytes = b"External Id,Account manager email,Workflow name\r\n"):
    yield header
    for i in range(count):
        yield b"CUST-%07d,am%d@example.com; Boss@Example.com,Card payers\r\n" % (i, i % 50)


@pytest.fixture
def read_csv() -> Callable[..., CsvImportReader]:
    """open_csv over bytes, or over text encoded as UTF-8."""

    def read(data: bytes | str, **kwargs) -> CsvImportReader:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        return open_csv(io.BytesIO(raw), **kwargs)

    return read


@pytest.fixture
def upload_class() -> type[GeneratedUpload]:
    return GeneratedUpload


@pytest.fixture
def lines_generator():
    return generated_lines
