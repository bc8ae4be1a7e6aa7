"""CSV assignment imports: the import record with its progress, the stored file, the failed lines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import Base
from hub.db.models.inbox import BigId
from hub.db.types import JSONType, UTCDateTime, utcnow

# Import statuses: queued → running → success | error (at least one line failed); failed when
# the file could not be processed to the end (see hub.services.imports.run).
IMPORT_QUEUED, IMPORT_RUNNING, IMPORT_SUCCESS, IMPORT_ERROR, IMPORT_FAILED = (
    "queued", "running", "success", "error", "failed")
IMPORT_FINISHED = (IMPORT_SUCCESS, IMPORT_ERROR, IMPORT_FAILED)
# Stored from the pages, waiting for the admin to map its columns: never enqueued, and removed
# by the sweeper when left for a day.
IMPORT_DRAFT = "draft"


class CsvImport(Base):
    """One uploaded CSV: how to read it, how far processing got, and what came out."""

    __tablename__ = "imports"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(16), default=IMPORT_QUEUED, index=True)
    filename: Mapped[str | None] = mapped_column(String(300))
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # as the admin gave it
    column_map: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)  # target → header
    headers: Mapped[list[str]] = mapped_column(JSONType, default=list)  # for errors.csv
    encoding: Mapped[str | None] = mapped_column(String(32))
    delimiter: Mapped[str | None] = mapped_column(String(4))
    total_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_read: Mapped[int] = mapped_column(BigInteger, default=0)
    total_lines: Mapped[int] = mapped_column(Integer, default=0)
    processed_lines: Mapped[int] = mapped_column(Integer, default=0)
    # Lines are split into parts by customer (hub.services.imports.parts); per part, the
    # physical line number of its last committed line: a resumed import skips each part up to
    # there. Fixed (with the number of parts) when the import is first claimed.
    last_lines: Mapped[list[int]] = mapped_column(JSONType, default=list)
    # The parts that have ended (every line applied, or stopped by an error in the file), in
    # order: parts run as tasks of their own, and the one that completes this list closes the
    # import. A set, not a counter, so that a redelivered part task cannot count twice.
    finished_parts: Mapped[list[int]] = mapped_column(JSONType, default=list)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Which worker run may commit chunks; a newer run takes over, the older one stops.
    claim: Mapped[str | None] = mapped_column(String(36))
    # Why the import failed; while it runs, set by the first part whose error the file cannot
    # get past (the import ends `failed` once the other parts have ended too).
    message: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ImportFilePiece(Base):
    """The uploaded bytes in pieces, so any worker streams the file with flat memory."""

    __tablename__ = "import_files"
    import_id: Mapped[int] = mapped_column(
        ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ImportLineError(Base):
    """A line that failed, with its original cells: the rows of errors.csv."""

    __tablename__ = "import_errors"
    __table_args__ = (
        UniqueConstraint("import_id", "line_number", name="uq_import_errors_import_line"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    line_number: Mapped[int] = mapped_column(Integer)
    raw: Mapped[dict[str, str]] = mapped_column(JSONType)
    error: Mapped[str] = mapped_column(Text)
