"""Background jobs an admin starts and watches: bulk replays (progress, cancel, rate limit)."""

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
