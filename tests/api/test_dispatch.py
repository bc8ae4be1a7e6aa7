"""The outbox dispatcher: webhooks only store; dispatchers claim stored events (never one twice,
however many run), publish them, hand back what the broker refused, and wake on the webhook's
commit (PostgreSQL's NOTIFY) or poll (SQLite)."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hub.db.models import InboxEvent
from hub.db.types import utcnow
from hub.services.ingest import dispatch
from hub.services.ingest.inbox import WAKE_DISPATCHERS
from tests.api.test_webhooks import ENV, stripe_headers
from tests.conftest import dispatched, published_ids


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.with_overrides({"env": ENV})


def customer_created(n: int) -> bytes:
    return json.dumps({"id": f"evt_dispatch_{n}", "object": "event", "type": "customer.created",
                       "created": 1795340000 + n, "data": {"object": {
                           "id": f"cus_dispatch_{n}", "object": "customer", "metadata": {},
                           "invoice_settings": {"default_payment_method": {
                               "id": f"pm_{n}", "type": "card"}}}}}).encode()


def post(client, n: int) -> None:  # type: ignore[no-untyped-def]
    body = customer_created(n)
    assert client.post("/webhooks/stripe", data=body, headers=stripe_headers(body)).status_code == 200


def stored(hub, n: int) -> None:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        uow.session.add_all(InboxEvent(connection="stripe", connector="stripe", vendor_event_id=f"evt_{i}",
                                       event_type="customer.created", status="received", payload={})
                            for i in range(n))
        uow.commit()


def published(queue) -> list[int]:  # type: ignore[no-untyped-def]
    return published_ids(queue.sent)


def test_a_webhook_only_stores_and_the_dispatcher_publishes_it_once(client, hub, queue):  # type: ignore[no-untyped-def]
    post(client, 1)
    post(client, 1)  # a duplicate delivery
    assert queue.sent == []
    [inbox_id] = dispatched(hub)
    assert dispatched(hub) == []
    with hub.uow() as uow:
        assert uow.session.get(InboxEvent, inbox_id).enqueued_at is not None


def test_two_dispatchers_on_one_backlog_never_publish_an_event_twice(hub, queue):  # type: ignore[no-untyped-def]
    hub.settings = hub.settings.with_overrides({"dispatch_in_flight": 0})  # no limit: all 600 go out
    stored(hub, 600)
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        dispatch.dispatch_pending(hub, batch=50)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    ids = published(queue)
    assert len(ids) == 600 and len(set(ids)) == 600
    with hub.uow() as uow:
        assert uow.session.scalars(select(InboxEvent.id).where(InboxEvent.enqueued_at.is_(None))).all() == []


def test_the_dispatcher_holds_events_back_while_the_workers_have_enough_in_hand(hub, queue):  # type: ignore[no-untyped-def]
    hub.settings = hub.settings.with_overrides({"dispatch_in_flight": 120, "process_batch": 50})
    stored(hub, 300)
    first = dispatched(hub)
    assert len(first) == 120  # the limit, as full batches of 50 and the rest
    assert [len(args[0]) for _, args in queue.sent] == [50, 50, 20]
    assert dispatched(hub) == []  # 120 in flight: less room than a batch, nothing more goes out
    with hub.uow() as uow:  # a worker finishes 60 of them
        uow.session.execute(update(InboxEvent).where(InboxEvent.id.in_(first[:60])).values(status="processed"))
        uow.commit()
    assert len(dispatched(hub)) == 60  # room for 60 again: one full batch and the rest
    with hub.uow() as uow:  # an old publish no longer counts: a lost message must not stop dispatching
        uow.session.execute(update(InboxEvent).where(InboxEvent.id.in_(first[60:]))
                            .values(enqueued_at=utcnow() - dispatch.IN_FLIGHT_WINDOW - timedelta(seconds=1)))
        uow.commit()
    assert len(dispatched(hub)) == 60


def test_what_the_broker_refuses_is_handed_back_and_dispatched_later(hub, queue):  # type: ignore[no-untyped-def]
    stored(hub, 3)
    queue.up = False
    assert dispatch.dispatch_pending(hub) == 0
    with hub.uow() as uow:
        assert uow.session.scalars(select(InboxEvent.id).where(InboxEvent.enqueued_at.is_(None))).all() != []
    queue.up = True
    assert dispatch.dispatch_pending(hub) == 3
    assert len(published(queue)) == 3


def test_a_running_dispatcher_hands_a_new_webhook_to_the_workers(client, hub, queue):  # type: ignore[no-untyped-def]
    """On PostgreSQL the poll interval is an hour, so only the commit's NOTIFY can wake it."""
    interval = 3600.0 if hub.db.dialect == "postgresql" else 0.05
    dispatcher = dispatch.Dispatcher(hub, interval_seconds=interval)
    thread = dispatcher.start()
    try:
        time.sleep(0.3)  # the dispatcher has passed over the empty inbox and waits
        post(client, 7)
        deadline = time.monotonic() + 5
        while not published(queue) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(published(queue)) == 1
    finally:
        dispatcher.stop()
        if hub.db.dialect == "postgresql":
            with hub.uow() as uow:  # wake it so it sees the stop
                uow.session.execute(WAKE_DISPATCHERS)
                uow.commit()
        thread.join(5)
    assert not thread.is_alive()


def test_the_dispatch_settings_are_read_from_the_environment():  # type: ignore[no-untyped-def]
    from hub.config import load_settings

    settings = load_settings(environ={"HUB_DISPATCH_BATCH": "50", "HUB_DISPATCH_INTERVAL_SECONDS": "1.5",
                                      "HUB_DISPATCHER": "false"})
    assert (settings.dispatch_batch, settings.dispatch_interval_seconds) == (50, 1.5)
    assert settings.dispatcher is False
    assert load_settings(environ={}).dispatcher is True


def test_hub_dispatch_once_publishes_what_waits(runner, hub, queue):  # type: ignore[no-untyped-def]
    stored(hub, 2)
    result = runner.invoke(args=["dispatch", "--once"])
    assert result.exit_code == 0, result.output
    assert "dispatched 2 events" in result.output and len(published(queue)) == 2
