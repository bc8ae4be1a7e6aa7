"""Inbox events: the vendor's ids and times, the normalised form, the payload on request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.presentation import iso

if TYPE_CHECKING:
    from hub.db.models import InboxEvent


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
