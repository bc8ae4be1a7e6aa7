"""Webhook ingestion: verify → parse → store each notification (deduplicated) → commit → answer.

Nothing is acknowledged before it is committed, and the request does nothing more: the events
wait in the inbox (`received`, no `enqueued_at`) for the outbox dispatcher
(``hub.services.ingest.dispatch``), which the commit wakes on PostgreSQL (NOTIFY). A duplicate
delivery stores nothing new and is still acknowledged. If publishing fails, the events lose their
`enqueued_at` again and are dispatched later; the sweeper (`enqueue_stragglers`) republishes
events claimed but never processed.

The requests one web process serves at the same moment are stored together, in one transaction
(``hub.services.ingest.group_commit``); on PostgreSQL in one statement
(``hub.services.ingest.inbox_postgres``). Each still answers only once its own rows are committed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from connectors.base import Connector, Notification, WebhookReply, WebhookRequest, json_reply
from hub.db.models import InboxEvent, SecurityEvent, WebhookDelivery
from hub.db.models.inbox import IGNORED, IN_FLIGHT, RECEIVED, UNDISPATCHED
from hub.db.types import utcnow
from hub.errors import HubError, InvalidInput, SignatureVerificationError
from hub.queue import PROCESS_EVENTS
from hub.services.directory.connections import ConnectionUnavailable
from hub.services.hub import Hub
from hub.services.ingest import inbox_postgres
from hub.services.ingest.group_commit import Pending
from hub.services.uow import autocommit

log = logging.getLogger(__name__)
INBOX = cast(Table, InboxEvent.__table__)
DELIVERIES = cast(Table, WebhookDelivery.__table__)
WAKE_CHANNEL = "hub_inbox"  # the dispatchers LISTEN here
WAKE_DISPATCHERS = text(f"NOTIFY {WAKE_CHANNEL}")

# Headers that carry credentials or signatures are never stored; vendors name their signature
# header after it (x-…-signature, …-signature), so any header naming one is left out.
SECRET_HEADERS = {"authorization", "cookie", "x-api-key"}
SIGNATURE_MARKER = "signature"


@dataclass(frozen=True)
class IngestResult:
    reply: WebhookReply
    stored: list[int]
    duplicates: int
    refused: str | None = None

    @property
    def outcome(self) -> str:
        """For metrics: accepted, duplicate, or why it was refused."""
        if self.refused:
            return {"signature_invalid": "refused_signature",
                    "service_unavailable": "unavailable",
                    "connection_unavailable": "unavailable"}.get(self.refused, "malformed")
        return "accepted" if self.stored else "duplicate"


def ingest(hub: Hub, connection_name: str, request: WebhookRequest, remote_addr: str | None) -> IngestResult:
    """Every refusal is the connector's own kind of answer (a SOAP fault for Salesforce) and a 4xx,
    except a misconfigured connection (503: the vendor retries once it is fixed)."""
    try:
        connector = hub.connections.connector(connection_name)
    except ConnectionUnavailable as exc:
        reply = json_reply(exc.to_dict(), exc.http_status, {"Retry-After": "300"})
        return IngestResult(reply, [], 0, refused=exc.code)
    try:
        connector.verify(request)
    except SignatureVerificationError as exc:
        _record_refusal(hub, connection_name, exc, remote_addr)
        return IngestResult(connector.refuse(exc), [], 0, refused=exc.code)
    except InvalidInput as exc:  # unreadable before the origin could be checked (hostile XML)
        return IngestResult(connector.refuse(exc), [], 0, refused=exc.code)
    try:
        notifications = connector.read(request)
    except InvalidInput as exc:
        return IngestResult(connector.refuse(exc), [], 0, refused=exc.code)
    try:
        stored, duplicates = _store(hub, connection_name, connector, request, notifications)
    except HubError as exc:  # database down: the vendor must retry (503, or a SOAP fault)
        return IngestResult(connector.refuse(exc), [], 0, refused=exc.code)
    return IngestResult(connector.acknowledge(notifications), stored, duplicates)


@dataclass(frozen=True)
class Delivery:
    """One webhook request's notifications, on their way into the inbox."""

    connection: str
    connector: Connector
    request: WebhookRequest | None  # None: found by a poll or a backfill
    notes: list[Notification]


Stored = tuple[list[int], int]  # the new inbox ids, and how many notifications were duplicates


def _store(
    hub: Hub, connection: str, connector: Connector, request: WebhookRequest | None,
    notes: list[Notification],
) -> Stored:
    """Webhook requests go through the process's group commit (hub.services.ingest.group_commit):
    those arriving together share one transaction."""
    delivery = Delivery(connection, connector, request, notes)
    return hub.inbox_writes.submit(delivery) if request is not None else write_deliveries(hub, [delivery])[0]


def store_deliveries(hub: Hub, batch: list[Pending[Delivery, Stored]]) -> None:
    """The group commit's writer: the whole batch in one transaction. If that fails for a reason
    of its data (not the database being down), each delivery is stored alone, so one bad
    request fails alone."""
    try:
        for pending, stored in zip(batch, write_deliveries(hub, [p.work for p in batch]), strict=True):
            pending.settle(stored)
    except HubError as exc:  # the database is down: nothing was stored, every vendor retries
        for pending in batch:
            pending.fail(exc)
    except Exception as exc:  # noqa: BLE001 - settled per delivery below, or handed to its request
        if len(batch) == 1:
            batch[0].fail(exc)
            return
        log.warning("a group of %d webhook deliveries failed (%s); storing each alone", len(batch), exc)
        for pending in batch:
            store_deliveries(hub, [pending])


def write_deliveries(hub: Hub, deliveries: list[Delivery]) -> list[Stored]:
    """One transaction: each raw delivery and every new notification. Duplicates are skipped by
    the unique key (ON CONFLICT DO NOTHING), so concurrent deliveries of one event store it once;
    a delivery that brought nothing new is not kept."""
    if hub.db.dialect == "postgresql" and all(d.request is not None for d in deliveries):
        return _write_postgres(hub, deliveries)
    notes = _first_of_each(deliveries)
    with hub.uow() as uow:
        db = uow.session.connection()  # Core on the session's transaction: cached statements, no ORM
        delivery_ids = _insert_deliveries(db, deliveries)
        rows = [_inbox_values(deliveries[index], delivery_ids[index], at, note) for index, at, note in notes]
        # executemany: one compiled statement, sent as multi-row INSERTs (insertmanyvalues)
        inserted = db.execute(_inbox_insert(db.dialect.name), rows).all() if rows else []
        keys = [(row.id, row.connection, row.vendor_event_id) for row in inserted]
        stored = _stored_by_delivery(deliveries, notes, keys)
        _forget_deliveries(db, [d for d, ids in zip(delivery_ids, stored, strict=True) if d and not ids])
        if db.dialect.name == "postgresql" and any(row.status == RECEIVED for row in inserted):
            db.execute(WAKE_DISPATCHERS)  # delivered when the transaction commits
        if inserted:
            uow.commit()
    return [(ids, len(delivery.notes) - len(ids)) for delivery, ids in zip(deliveries, stored, strict=True)]


def _write_postgres(hub: Hub, deliveries: list[Delivery]) -> list[Stored]:
    """The same in one autocommitted statement (hub.services.ingest.inbox_postgres)."""
    notes = _first_of_each(deliveries)
    raw = [_delivery_row(d, d.request) for d in deliveries if d.request is not None]
    events = [{**_inbox_values(deliveries[index], None, at, note), "delivery": index + 1}
              for index, at, note in notes]
    with autocommit(hub.db) as db:
        wake = WAKE_CHANNEL if any(event["status"] == RECEIVED for event in events) else None
        inserted, delivery_ids = inbox_postgres.store(db, wake, raw, events)
        stored = _stored_by_delivery(deliveries, notes, inserted)
        # Autocommitted already: the unused raw rows go by a second statement.
        _forget_deliveries(db, [delivery_ids[n] for n, ids in enumerate(stored, start=1) if not ids])
    return [(ids, len(delivery.notes) - len(ids)) for delivery, ids in zip(deliveries, stored, strict=True)]


def _first_of_each(deliveries: list[Delivery]) -> list[tuple[int, datetime, Notification]]:
    """Each (connection, vendor event id) once, with the index of the first delivery naming it."""
    received_at = utcnow()
    seen: set[tuple[str, str]] = set()
    notes = []
    for index, delivery in enumerate(deliveries):
        at = delivery.request.received_at if delivery.request is not None else received_at
        for note in delivery.notes:
            if (delivery.connection, note.vendor_event_id) not in seen:
                seen.add((delivery.connection, note.vendor_event_id))
                notes.append((index, at, note))
    return notes


def _stored_by_delivery(
    deliveries: list[Delivery], notes: list[tuple[int, datetime, Notification]],
    inserted: list[tuple[int, str, str]],
) -> list[list[int]]:
    """The inserted inbox ids of each delivery (``notes``: _first_of_each's), in id order."""
    owner = {(deliveries[index].connection, note.vendor_event_id): index for index, _, note in notes}
    stored: list[list[int]] = [[] for _ in deliveries]
    for inbox_id, connection, vendor_event_id in sorted(inserted):
        stored[owner[(connection, vendor_event_id)]].append(inbox_id)
    return stored


def store_polled(hub: Hub, connection: str, connector: Connector, notes: list[Notification]) -> list[int]:
    """Notifications found by a poll or backfill enter the same inbox, with the same dedupe."""
    return _store(hub, connection, connector, None, notes)[0] if notes else []


def _inbox_insert(dialect: str):  # type: ignore[no-untyped-def]
    """INSERT ... ON CONFLICT DO NOTHING RETURNING: only new rows come back, with their key."""
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    return (insert_(INBOX)
            .on_conflict_do_nothing(index_elements=["connection", "vendor_event_id"])
            .returning(InboxEvent.id, InboxEvent.status, InboxEvent.connection, InboxEvent.vendor_event_id))


def _delivery_row(delivery: Delivery, request: WebhookRequest) -> dict:
    # Credentials inside the payload (Salesforce's SessionId) are blanked before anything is stored.
    return {"connection": delivery.connection, "received_at": request.received_at,
            "headers": safe_headers(request.headers), "body": delivery.connector.redact_body(request.body)}


def _forget_deliveries(db: Connection, ids: list[int]) -> None:
    """Raw requests that brought nothing new are not kept."""
    if ids:
        db.execute(delete(DELIVERIES).where(WebhookDelivery.id.in_(ids)))


def _insert_deliveries(db: Connection, deliveries: list[Delivery]) -> list[int | None]:
    """The raw requests, one multi-row INSERT; ids come back in the order of the requests."""
    params = [_delivery_row(d, d.request) for d in deliveries if d.request is not None]
    if not params:
        return [None] * len(deliveries)
    statement = insert(DELIVERIES).returning(WebhookDelivery.id, sort_by_parameter_order=True)
    ids = iter(db.execute(statement, params).scalars().all())
    return [next(ids) if d.request is not None else None for d in deliveries]


def _inbox_values(
    delivery: Delivery, delivery_id: int | None, received_at: datetime, n: Notification
) -> dict:
    return {
        "connection": delivery.connection, "connector": delivery.connector.name,
        "vendor_event_id": n.vendor_event_id,
        "event_type": n.event_type, "status": RECEIVED if n.handled else IGNORED,
        "occurred_at": n.occurred_at, "received_at": received_at, "delivery_id": delivery_id,
        "payload": n.payload,
        "enqueued_at": None,  # the dispatcher claims and stamps it
    }


def safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    lowered = ((k.lower(), v) for k, v in headers.items())
    return {k: v for k, v in lowered if k not in SECRET_HEADERS and SIGNATURE_MARKER not in k}


def delivered_headers(session: Session, event: InboxEvent | None) -> dict[str, str]:
    """The headers of the delivery that brought ``event``, sorted, secrets left out again (in case
    an older row kept one); none for a polled event or one the inbox pruned."""
    delivery = session.get(WebhookDelivery, event.delivery_id) if event and event.delivery_id else None
    return dict(sorted(safe_headers(delivery.headers or {}).items())) if delivery is not None else {}


def publish(hub: Hub, inbox_ids: list[int], stamp: bool = False) -> int:
    """Enqueue processing of these events. Those the broker refused lose their enqueued_at, so
    the sweeper publishes them once it is back; with ``stamp``, those it took get one."""
    sent: list[int] = []
    refused: list[int] = []
    size = max(1, hub.settings.process_batch)
    for start in range(0, len(inbox_ids), size):  # one message per batch a worker processes
        chunk = list(inbox_ids[start:start + size])
        (sent if hub.queue.enqueue(PROCESS_EVENTS, chunk) else refused).extend(chunk)
    changes = [(ids, value) for ids, value in [(refused, None), (sent if stamp else [], utcnow())] if ids]
    if not changes:
        return len(sent)
    try:
        with hub.uow() as uow:
            for ids, value in changes:
                uow.session.execute(update(InboxEvent).where(InboxEvent.id.in_(ids))
                                    .values(enqueued_at=value))
            uow.commit()
    except HubError:  # the lost-message sweep will publish them again; processing is idempotent
        log.warning("could not record the publish state of %d events", len(inbox_ids))
    return len(sent)


def enqueue_stragglers(
    hub: Hub,
    older_than: timedelta = timedelta(seconds=30),
    lost_after: timedelta = timedelta(minutes=10),
    batch: int = 500,
) -> int:
    """The sweeper: publish events stored while the broker was down (never enqueued), and
    events enqueued long ago but still not processed (a message lost with a killed worker).
    A second publish is harmless: processing is idempotent."""
    now = utcnow()
    with hub.uow() as uow:
        never = select(InboxEvent.id).where(text(UNDISPATCHED), InboxEvent.received_at < now - older_than)
        lost = select(InboxEvent.id).where(text(IN_FLIGHT), InboxEvent.enqueued_at < now - lost_after)
        ids = list(uow.session.scalars(never.order_by(InboxEvent.id).limit(batch)))
        ids += list(uow.session.scalars(lost.order_by(InboxEvent.id).limit(batch)))
    return publish(hub, ids, stamp=True)


def _record_refusal(
    hub: Hub, connection: str, exc: SignatureVerificationError, remote_addr: str | None
) -> None:
    log.warning("refused webhook on %s from %s: %s", connection, remote_addr, exc.code)
    try:
        with hub.uow() as uow:
            uow.session.add(SecurityEvent(connection=connection, kind=exc.code,
                                          detail=exc.message[:500], remote_addr=remote_addr))
            uow.commit()
    except HubError:
        log.error("could not record a refused webhook on %s (database down)", connection)
