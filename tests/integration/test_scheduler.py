"""The periodic jobs: Salesforce poll and QuickBooks backfill into the inbox, due retries, pruning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from connectors import registry
from connectors.base import Connection, Connector, Notification
from hub.db.models import InboxEvent, PollCursor, RecipeRun
from hub.db.types import utcnow
from hub.services.directory.connections import Connections
from hub.services.ingest import polling, retention
from hub.services.processing import retries
from tests.conftest import dispatched

T0 = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


class FakeSalesforce:
    """Stands in for SalesforceConnector.poll: Accounts changed since the cursor."""

    name = "salesforce"

    def __init__(self, records: list[tuple[str, datetime]]) -> None:
        self.records, self.asked = records, []

    def poll(self, since):  # type: ignore[no-untyped-def]
        self.asked.append(since)
        found = [(i, at) for i, at in self.records if since is None or at >= since]
        notes = [Notification(f"poll:{i}:{at.isoformat()}", "Account", at, {"Id": i}, True)
                 for i, at in found]
        return notes, max((at for _, at in found), default=since or T0)


class FakeQuickBooks:
    name = "quickbooks"

    def __init__(self) -> None:
        self.asked = []

    def backfill(self, since):  # type: ignore[no-untyped-def]
        self.asked.append(since)
        return [Notification("realm:Customer:58:Update:2026-11-20T16:15:30Z", "Customer", T0, {"id": "58"}, True)]


def wire(hub, fakes: dict) -> None:  # type: ignore[no-untyped-def]
    preset = {n: Connection(n, f.name, {}) for n, f in fakes.items()}
    hub.connections = Connections(hub.settings, preset=preset)
    hub.connections._instances = dict(fakes)


def count(hub, stmt) -> int:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        return uow.session.scalar(stmt)


def test_salesforce_poll_stores_new_accounts_and_moves_the_cursor(hub, queue):  # type: ignore[no-untyped-def]
    fake = FakeSalesforce([("001A", T0), ("001B", T0 + timedelta(minutes=1))])
    wire(hub, {"salesforce": fake})
    assert polling.poll_connections(hub) == {"salesforce": 2}
    # the next poll asks from the newest SystemModstamp (>=): the boundary record comes back
    # and the inbox dedupes it
    assert polling.poll_connections(hub) == {"salesforce": 0}
    assert fake.asked == [None, T0 + timedelta(minutes=1)]
    assert count(hub, select(func.count(InboxEvent.id))) == 2
    assert len(dispatched(hub)) == 2
    with hub.uow() as uow:
        assert uow.session.get(PollCursor, ("salesforce", "salesforce_poll")).cursor == T0 + timedelta(minutes=1)


def test_quickbooks_backfill_dedupes_against_webhooks(hub):  # type: ignore[no-untyped-def]
    fake = FakeQuickBooks()
    wire(hub, {"quickbooks": fake})
    assert polling.backfill_connections(hub) == {"quickbooks": 1}
    assert polling.backfill_connections(hub) == {"quickbooks": 0}
    assert fake.asked[1] > fake.asked[0]


class PolledPlugin(Connector):
    """A third-party connector that can be polled: its class says so, not its vendor's name."""

    name = "acmecrm"

    def verify(self, request):  # type: ignore[no-untyped-def]
        return None

    def parse(self, request):  # type: ignore[no-untyped-def]
        return []

    def normalise(self, stored):  # type: ignore[no-untyped-def]
        return []

    def poll(self, since):  # type: ignore[no-untyped-def]
        return [Notification("acme:1", "Account", T0, {"Id": "1"}, True)], T0


class NotPolled:
    name = "stripe"

    def poll(self, since):  # type: ignore[no-untyped-def]
        raise AssertionError("a connector whose class is not Polled is never polled")


@pytest.fixture
def polled_plugin():  # type: ignore[no-untyped-def]
    registry.register(PolledPlugin.name, PolledPlugin)
    yield
    registry.reset()


@pytest.mark.usefixtures("polled_plugin")
def test_every_polled_connection_is_polled_under_its_connectors_cursor_kind(hub):  # type: ignore[no-untyped-def]
    plugin = PolledPlugin(Connection("acme-eu", "acmecrm", {}))
    wire(hub, {"acme-eu": plugin, "salesforce": FakeSalesforce([("001A", T0)]), "stripe": NotPolled()})
    assert polling.poll_connections(hub) == {"acme-eu": 1, "salesforce": 1}
    assert polling.backfill_connections(hub) == {}
    with hub.uow() as uow:
        kinds = sorted((c.connection, c.kind) for c in uow.session.scalars(select(PollCursor)))
    assert kinds == [("acme-eu", "poll"), ("salesforce", "salesforce_poll")]


def test_due_retries_are_enqueued_once_then_leased(hub, queue):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        event = InboxEvent(connection="stripe", connector="stripe", vendor_event_id="evt_r",
                           event_type="customer.updated", status="retrying", payload={})
        uow.session.add(event)
        uow.session.flush()
        uow.session.add_all([
            RecipeRun(inbox_event_id=event.id, status="retrying", next_attempt_at=utcnow() - timedelta(seconds=1)),
            RecipeRun(inbox_event_id=event.id, status="retrying", next_attempt_at=utcnow() + timedelta(hours=1)),
        ])
        uow.commit()
        event_id = event.id
    assert retries.enqueue_due_retries(hub) == 1
    assert retries.enqueue_due_retries(hub) == 0  # leased: not enqueued again at once
    assert queue.sent == [("hub.process_event", (event_id,))]


def test_backoff_grows_with_jitter_and_respects_retry_after():
    delays = [retries.backoff_seconds(n, base=10, cap=3600) for n in range(1, 8)]
    assert all(1 <= d <= min(3600, 10 * 2 ** (n - 1)) for n, d in enumerate(delays, start=1))
    assert retries.backoff_seconds(1, base=10, cap=3600, retry_after=120) >= 120


def test_prune_keeps_recent_and_unprocessed_events(hub):  # type: ignore[no-untyped-def]
    old = utcnow() - timedelta(days=30)
    with hub.uow() as uow:
        for key, status, at in (("old-done", "processed", old), ("old-ignored", "ignored", old),
                                ("old-failed", "failed", old), ("new-done", "processed", utcnow())):
            uow.session.add(InboxEvent(connection="stripe", connector="stripe", vendor_event_id=key,
                                       event_type="x", status=status, received_at=at, payload={}))
        uow.commit()
    hub.settings = hub.settings.with_overrides({"inbox_retention_days": 1})  # floor is 4 days
    assert retention.prune_inbox(hub) == 2
    with hub.uow() as uow:
        left = sorted(uow.session.scalars(select(InboxEvent.vendor_event_id)))
    assert left == ["new-done", "old-failed"]
