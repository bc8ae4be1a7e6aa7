"""The inbox: every vendor notification, stored before it is acknowledged, deduplicated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import Base
from hub.db.types import JSONType, UTCDateTime, utcnow

# Inbox statuses. One writer each: ingestion writes received/ignored, the sweeper and the
# ingestion's after-commit hook stamp enqueued_at, processing writes the rest.
RECEIVED = "received"
IGNORED = "ignored"
PROCESSING = "processing"
PROCESSED = "processed"
FAILED = "failed"
RETRYING = "retrying"
INBOX_STATUSES = (RECEIVED, IGNORED, PROCESSING, PROCESSED, FAILED, RETRYING)
# The dispatcher's two questions, each the predicate of a partial index. Queries use these very
# texts (not a bound status): the planner can use a partial index only for a predicate it can
# prove, and a prepared statement's parameter proves nothing.
UNDISPATCHED = "status = 'received' AND enqueued_at IS NULL"
IN_FLIGHT = "status = 'received' AND enqueued_at IS NOT NULL"

BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER only


class WebhookDelivery(Base):
    """One HTTP request as received: the raw body (signatures are over it), safe headers."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    connection: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)


class InboxEvent(Base):
    """One vendor notification; unique per (connection, vendor event id)."""

    __tablename__ = "inbox_events"
    __table_args__ = (
        UniqueConstraint("connection", "vendor_event_id", name="uq_inbox_events_connection_vendor_id"),
        Index("ix_inbox_events_status_received", "status", "received_at"),
        # What the dispatcher asks on every pass, answered from the rows concerned only.
        Index("ix_inbox_events_undispatched", "id", postgresql_where=text(UNDISPATCHED),
              sqlite_where=text(UNDISPATCHED)),
        Index("ix_inbox_events_in_flight", "enqueued_at", postgresql_where=text(IN_FLIGHT),
              sqlite_where=text(IN_FLIGHT)),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    connection: Mapped[str] = mapped_column(String(100))
    connector: Mapped[str] = mapped_column(String(50))
    vendor_event_id: Mapped[str] = mapped_column(String(300))
    event_type: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default=RECEIVED)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="SET NULL"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    normalised: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    customer_external_id: Mapped[str | None] = mapped_column(String(255), index=True)
    error_class: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)


class SecurityEvent(Base):
    """A refused webhook (forged signature, wrong credentials, foreign org): counted, payload not kept."""

    __tablename__ = "security_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    connection: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    detail: Mapped[str | None] = mapped_column(Text)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PollCursor(Base):
    """Where a connection's poll or backfill got to (Salesforce SystemModstamp, QuickBooks CDC)."""

    __tablename__ = "poll_cursors"
    connection: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
