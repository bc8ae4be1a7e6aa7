"""Background jobs an admin starts and watches: bulk replays (progress, cancel, rate limit) and
bulk assignments of large selections (progress, cancel)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import Base
from hub.db.models.inbox import BigId
from hub.db.types import JSONType, UTCDateTime, utcnow

JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_CANCELLED, JOB_FAILED = (
    "queued", "running", "done", "cancelled", "failed")


class ReplayJob(Base):
    __tablename__ = "replay_jobs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    filter: Mapped[dict[str, Any]] = mapped_column(JSONType)
    version: Mapped[str] = mapped_column(String(16), default="current")
    rate_per_second: Mapped[float] = mapped_column(Float, default=20.0)
    status: Mapped[str] = mapped_column(String(16), default=JOB_QUEUED)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    succeeded: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BulkAssignJob(Base):
    """An admin's assignment to every customer of a selection too large for one request.

    ``selection`` is the filter (or the chosen external ids) and ``writes`` the change, as the
    confirmation page showed them; the worker walks the matching customers by external id
    (``cursor`` is the last one done), one transaction per chunk that also moves the cursor and
    adds the chunk's outcomes to ``outcomes`` and ``overruled_by``, so a redelivered job resumes
    after its last chunk and counts nothing twice."""

    __tablename__ = "bulk_assign_jobs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    selection: Mapped[dict[str, Any]] = mapped_column(JSONType)
    writes: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default=JOB_QUEUED)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    cursor: Mapped[str | None] = mapped_column(String(255))
    outcomes: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)  # outcome → fields
    overruled_by: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)  # owner → fields
    message: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
