"""Recipe versions and the run log: one run per (event, recipe), with trace and outcomes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import Base
from hub.db.models.inbox import BigId
from hub.db.types import JSONType, UTCDateTime, utcnow

SUCCEEDED = "succeeded"
PARTIAL = "partial"
SKIPPED = "skipped"
FAILED = "failed"
RETRYING = "retrying"
RUN_STATUSES = (SUCCEEDED, PARTIAL, SKIPPED, FAILED, RETRYING)


class RecipeVersion(Base):
    """Every version of a recipe the hub has loaded, by content hash; runs name the one they used."""

    __tablename__ = "recipe_versions"
    __table_args__ = (
        UniqueConstraint("name", "version", name="uq_recipe_versions_name_version"),
        UniqueConstraint("name", "content_hash", name="uq_recipe_versions_name_hash"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    path: Mapped[str | None] = mapped_column(String(500))
    content: Mapped[str] = mapped_column(Text)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)


class RecipeRun(Base):
    __tablename__ = "recipe_runs"
    __table_args__ = (
        Index("ix_recipe_runs_status_next", "status", "next_attempt_at"),
        Index("ix_recipe_runs_event", "inbox_event_id"),
        Index("ix_recipe_runs_created", "created_at"),
        # The run log's counts by status (resolved failures apart) read this index alone.
        Index("ix_recipe_runs_status_resolved", "status", "resolved_by_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    inbox_event_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_events.id", ondelete="SET NULL"))
    connection: Mapped[str | None] = mapped_column(String(100), index=True)
    recipe_name: Mapped[str | None] = mapped_column(String(200), index=True)  # None: the event stage
    recipe_version: Mapped[int | None] = mapped_column(Integer)
    recipe_hash: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    customer_external_id: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(16))
    error_class: Mapped[str | None] = mapped_column(String(16), index=True)
    message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[float | None]
    trace: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    updates: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    replay_of_id: Mapped[int | None] = mapped_column(ForeignKey("recipe_runs.id", ondelete="SET NULL"))
    # On a failed run: the replay that then ran through (hub.services.processing.replay). Only that service
    # writes it; the run log leaves resolved failures out of ``status=failed`` by default.
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("recipe_runs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
