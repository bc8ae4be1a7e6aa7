"""Reading the inbox: list with filters, one event with its raw and normalised forms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from hub.db.models import InboxEvent
from hub.errors import NotFound
from hub.services.representation import iso


@dataclass(frozen=True)
class EventFilter:
    connection: str | None = None
    connector: str | None = None
    status: str | None = None
    event_type: str | None = None
    customer: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, stmt: Select) -> Select:
        c = []
        if self.connection:
            c.append(InboxEvent.connection == self.connection)
        if self.connector:
            c.append(InboxEvent.connector == self.connector)
        if self.status:
            c.append(InboxEvent.status == self.status)
        if self.event_type:
            c.append(InboxEvent.event_type == self.event_type)
        if self.customer:
            c.append(InboxEvent.customer_external_id == self.customer)
        if self.since:
            c.append(InboxEvent.received_at >= self.since)
        if self.until:
            c.append(InboxEvent.received_at < self.until)
        return stmt.where(and_(*c)) if c else stmt


def list_events(session: Session, flt: EventFilter, offset: int, limit: int) -> tuple[int, list[InboxEvent]]:
    total = session.scalar(flt.apply(select(func.count(InboxEvent.id)))) or 0
    rows = session.scalars(flt.apply(select(InboxEvent)).order_by(InboxEvent.id.desc())
                           .offset(offset).limit(limit))
    return total, list(rows)


def get_event(session: Session, event_id: int) -> InboxEvent:
    event = session.get(InboxEvent, event_id)
    if event is None:
        raise NotFound(f"event {event_id} not found")
    return event


def event_dict(e: InboxEvent, with_payload: bool = False) -> dict[str, Any]:
    body = {
        "id": e.id,
        "connection": e.connection,
        "connector": e.connector,
        "vendorEventId": e.vendor_event_id,
        "type": e.event_type,
        "status": e.status,
        "customerExternalId": e.customer_external_id,
        "occurredAt": iso(e.occurred_at),
        "receivedAt": iso(e.received_at),
        "enqueuedAt": iso(e.enqueued_at),
        "processedAt": iso(e.processed_at),
        "normalised": e.normalised,
        "error": {"class": e.error_class, "message": e.error} if e.error_class else None,
    }
    if with_payload:
        body["payload"] = e.payload
    return body
