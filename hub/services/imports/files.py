"""Uploaded CSV files kept in the database in 1 MiB pieces, so any worker can stream them back.

Storing pieces rather than one large binary value keeps memory flat on both sides: the upload
writes each piece as it arrives, the worker reads one piece at a time.
"""

from __future__ import annotations

import io
from typing import BinaryIO, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from hub.csvfile.decoding import MeteredStream
from hub.db.engine import Database
from hub.db.models import ImportFilePiece

PIECE_BYTES = 1024 * 1024
CHUNKS = cast(Table, ImportFilePiece.__table__)


class FileSink:
    """Collects bytes and inserts them as numbered pieces inside the caller's transaction."""

    def __init__(self, session: Session, import_id: int) -> None:
        self._session = session
        self._import_id = import_id
        self._pending = bytearray()
        self._seq = 0
        self.size = 0

    def write(self, data: bytes) -> None:
        self._pending += data
        self.size += len(data)
        while len(self._pending) >= PIECE_BYTES:
            self._store(bytes(self._pending[:PIECE_BYTES]))
            del self._pending[:PIECE_BYTES]

    def close(self) -> None:
        if self._pending:
            self._store(bytes(self._pending))
            self._pending.clear()

    def _store(self, piece: bytes) -> None:
        # Core, not ORM: the session's identity map would otherwise hold every piece.
        self._session.execute(insert(CHUNKS), {"import_id": self._import_id, "seq": self._seq,
                                               "data": piece})
        self._seq += 1


class TeeStream(io.RawIOBase):
    """Reads the upload for the CSV reader while handing every byte to a FileSink.

    The reader only looks at the head of the file (encoding, header); drain() then stores the
    rest. The size limit is enforced underneath (MeteredStream), on every byte, whoever reads.
    """

    def __init__(self, source: BinaryIO, sink: FileSink, max_bytes: int | None) -> None:
        super().__init__()
        self._source = MeteredStream(source, max_bytes)  # refuses an oversized file up front
        self._sink = sink

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = self._source.readinto(buffer)
        self._sink.write(bytes(buffer[:n]))
        return n

    def drain(self) -> int:
        """Store the rest of the upload; returns the file's total size in bytes."""
        buffer = memoryview(bytearray(PIECE_BYTES))
        while self.readinto(buffer):
            pass
        self._sink.close()
        return self._sink.size


class StoredFile(io.RawIOBase):
    """The stored file as a binary stream, read one piece (one short query) at a time.

    Each piece is fetched on its own connection, between the worker's chunk transactions.
    """

    def __init__(self, db: Database, import_id: int) -> None:
        super().__init__()
        self._db = db
        self._import_id = import_id
        self._seq = 0
        self._piece = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if not self._piece:
            data = self._fetch()
            if data is None:
                return 0
            self._piece = memoryview(data)
        n = min(len(buffer), len(self._piece))
        buffer[:n] = self._piece[:n]
        self._piece = self._piece[n:]
        return n

    def _fetch(self) -> bytes | None:
        stmt = select(CHUNKS.c.data).where(
            CHUNKS.c.import_id == self._import_id, CHUNKS.c.seq == self._seq
        )
        with self._db.engine.connect() as conn:
            data = conn.execute(stmt).scalar_one_or_none()
        self._seq += 1
        return bytes(data) if data is not None else None


def delete_file(session: Session, import_id: int) -> None:
    """A finished import needs only its failed lines; the file itself goes."""
    session.execute(delete(CHUNKS).where(CHUNKS.c.import_id == import_id))
