"""Webhook requests one process serves at once share one transaction (group commit), on SQLite
and on PostgreSQL (where the group goes in as one statement), and each keeps its own outcome."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import pytest
import stripe
from sqlalchemy import select

from connectors.base import WebhookRequest
from hub.db.models import InboxEvent, WebhookDelivery
from hub.services.ingest import inbox
from tests.integration.test_processing import SECRET, pm_event


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.with_overrides({"env": {"HUB_STRIPE_WEBHOOK_SECRET": SECRET}})


def request(event: dict, **headers: str) -> WebhookRequest:
    body = json.dumps(event).encode()
    at = int(time.time())
    sig = stripe.WebhookSignature._compute_signature(f"{at}.{body.decode()}", SECRET)
    return WebhookRequest(body=body, headers={"stripe-signature": f"t={at},v1={sig}", **headers},
                          received_at=datetime.now(UTC))


def hold_first_batch(hub, monkeypatch):  # type: ignore[no-untyped-def]
    """The first group waits until released, so the requests sent meanwhile form the second."""
    started, release = threading.Event(), threading.Event()
    write = hub.inbox_writes._write

    def slow(batch):  # type: ignore[no-untyped-def]
        if not started.is_set():
            started.set()
            assert release.wait(10)
        write(batch)

    monkeypatch.setattr(hub.inbox_writes, "_write", slow)
    return started, release


def ingest_together(hub, monkeypatch, requests: list[WebhookRequest]) -> list[object]:  # type: ignore[no-untyped-def]
    """The first request alone, then the rest while it is being written; each one's outcome."""
    started, release = hold_first_batch(hub, monkeypatch)
    outcomes: list[object] = [None] * len(requests)

    def one(index: int) -> None:
        try:
            outcomes[index] = inbox.ingest(hub, "stripe", requests[index], "127.0.0.1")
        except Exception as exc:  # noqa: BLE001 - the test looks at what each request got
            outcomes[index] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(requests))]
    threads[0].start()
    assert started.wait(10)
    for thread in threads[1:]:
        thread.start()
    deadline = time.monotonic() + 10
    while len(hub.inbox_writes._queue) < len(requests) - 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    for thread in threads:
        thread.join(10)
    return outcomes


def stored_rows(hub):  # type: ignore[no-untyped-def]
    with hub.uow(read_only=True) as uow:
        events = uow.session.scalars(select(InboxEvent).order_by(InboxEvent.id)).all()
        deliveries = {d.id: d for d in uow.session.scalars(select(WebhookDelivery))}
        return [(e.vendor_event_id, e.id, deliveries[e.delivery_id].body) for e in events], deliveries


def test_requests_served_together_are_stored_in_one_transaction_each_with_its_own_delivery(
    hub, monkeypatch
):  # type: ignore[no-untyped-def]
    created = int(time.time())
    events = [pm_event(f"evt_group_{n}", f"cus_group_{n}", "card", created) for n in range(8)]
    requests = [request(event) for event in events] + [request(events[3])]  # a vendor's retry
    outcomes = ingest_together(hub, monkeypatch, requests)
    assert (hub.inbox_writes.batches, hub.inbox_writes.requests) == (2, 9)
    assert all(isinstance(o, inbox.IngestResult) and o.reply.status == 200 for o in outcomes), outcomes
    assert [o.outcome for o in outcomes] == ["accepted"] * 8 + ["duplicate"]  # type: ignore[union-attr]
    rows, deliveries = stored_rows(hub)
    assert sorted(r[0] for r in rows) == sorted(e["id"] for e in events)
    for vendor_event_id, _, body in rows:  # each event points at the request that brought it
        assert json.loads(body)["id"] == vendor_event_id
    assert len(deliveries) == 8  # the retry brought nothing new: its raw request is not kept
    inbox_ids = {vendor_event_id: inbox_id for vendor_event_id, inbox_id, _ in rows}
    assert [o.stored for o in outcomes[:8]] == [[inbox_ids[e["id"]]] for e in events]  # type: ignore[union-attr]


def test_one_bad_request_in_a_group_fails_alone(hub, monkeypatch):  # type: ignore[no-untyped-def]
    real = inbox.safe_headers

    def poisoned(headers):  # type: ignore[no-untyped-def]
        if "x-poison" in headers:
            raise ValueError("a bug met by this request only")
        return real(headers)

    monkeypatch.setattr(inbox, "safe_headers", poisoned)
    created = int(time.time())
    requests = [request(pm_event(f"evt_bad_{n}", f"cus_bad_{n}", "card", created)) for n in range(5)]
    poison = pm_event("evt_bad_poison", "cus_bad_poison", "card", created)
    requests.append(request(poison, **{"x-poison": "1"}))
    outcomes = ingest_together(hub, monkeypatch, requests)
    assert isinstance(outcomes[-1], ValueError)
    assert [o.outcome for o in outcomes[:-1]] == ["accepted"] * 5  # type: ignore[union-attr]
    rows, deliveries = stored_rows(hub)
    assert sorted(r[0] for r in rows) == [f"evt_bad_{n}" for n in range(5)]
    assert len(deliveries) == 5
