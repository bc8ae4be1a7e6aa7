"""Reading the inbox: list with filters, one event with its raw and normalised forms, refusals.

Each read is its own read-only unit of work; the rows it returns stay readable after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_

from hub.db.models import InboxEvent, RecipeRun, SecurityEvent
from hub.db.models.inbox import INBOX_STATUSES
from hub.services.hub import Hub
from hub.services.ingest.inbox import delivered_headers
from hub.services.pages import Page, newest_first
from hub.services.queries.runs import RunFilter, list_runs
from hub.services.uow import get_row

__all__ = ["INBOX_STATUSES", "EventDetail", "EventFilter", "RefusalFilter", "event_detail", "get_event",
           "list_events", "list_refusals"]


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


def list_events(hub: Hub, flt: EventFilter, offset: int, limit: int) -> Page[InboxEvent]:
    return newest_first(hub, InboxEvent, flt.apply, offset, limit)


def get_event(hub: Hub, event_id: int) -> InboxEvent:
    with hub.uow(read_only=True) as uow:
        return get_row(uow.session, InboxEvent, event_id, what="event")


@dataclass(frozen=True)
class EventDetail:
    event: InboxEvent
    headers: dict[str, str]  # of the delivery that brought it; none for a polled event
    runs: Page[RecipeRun]  # newest first


def event_detail(hub: Hub, event_id: int, runs_limit: int = 50) -> EventDetail:
    """The event, its delivery's headers (credentials and signatures left out, again, in case an
    older row kept one) and its runs."""
    with hub.uow(read_only=True) as uow:
        event = get_row(uow.session, InboxEvent, event_id, what="event")
        headers = delivered_headers(uow.session, event)
    return EventDetail(event, headers, list_runs(hub, RunFilter(event=event_id), 0, runs_limit))


@dataclass(frozen=True)
class RefusalFilter:
    connection: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, stmt: Select) -> Select:
        c = []
        if self.connection:
            c.append(SecurityEvent.connection == self.connection)
        if self.since:
            c.append(SecurityEvent.created_at >= self.since)
        if self.until:
            c.append(SecurityEvent.created_at < self.until)
        return stmt.where(and_(*c)) if c else stmt


def list_refusals(hub: Hub, flt: RefusalFilter, offset: int, limit: int) -> Page[SecurityEvent]:
    """Refused webhooks (forged signatures, wrong credentials): kind, reason, source; no payload
    was ever kept."""
    return newest_first(hub, SecurityEvent, flt.apply, offset, limit)
