"""Vendor fetches of a batch overlap, bounded per connection, and a Retry-After pauses the whole
connection: against a real HTTP stand-in of Stripe's API on loopback (plain http, as staging)."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.db.models import InboxEvent, RecipeRun
from hub.db.types import utcnow
from hub.services.demo import load_demo
from hub.services.processing import batch
from tests.integration.standins import Seen, StandIn, serving
from tests.integration.test_processing import ROOT, SECRET, pm_event, post


class SlowStripe(StandIn):
    """GET /v1/customers/<id> answers after ``delay`` s (card payer), or 429 when told to."""

    def __init__(self, delay: float = 0.05, retry_after: int | None = None) -> None:
        super().__init__()
        self.delay, self.retry_after = delay, retry_after
        self.in_flight = self.most_in_flight = 0
        self._lock = threading.Lock()
        self.route("GET", r"/v1/customers/(?P<id>[^/]+)")(self.customer)

    def customer(self, match: re.Match[str], seen: Seen) -> tuple:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            if self.retry_after is not None:
                return 429, {"error": {"type": "rate_limit_error"}}, {"Retry-After": str(self.retry_after)}
            return 200, {"id": match["id"], "object": "customer", "metadata": {}, "currency": "usd",
                         "invoice_settings": {"default_payment_method": {"id": "pm_1", "type": "card"}}}
        finally:
            with self._lock:
                self.in_flight -= 1


@pytest.fixture
def stand_in(request):  # type: ignore[no-untyped-def]
    with serving(SlowStripe(**getattr(request, "param", {}))) as served:
        yield served


@pytest.fixture
def demo(hub):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        load_demo(uow.session)
        uow.commit()
    return hub


@pytest.fixture
def settings(settings, stand_in):  # type: ignore[no-untyped-def]
    return settings.with_overrides({
        "env": {"HUB_STRIPE_WEBHOOK_SECRET": SECRET, "HUB_STRIPE_API_KEY": "sk_test_x",
                "HUB_STRIPE_API_BASE": stand_in.base},
        "recipes_dir": str(ROOT / "recipes"), "fetch_concurrency": 3,
    })


def by_id(n: int) -> dict:
    """A customer.created naming its payment method by id only: the normaliser fetches the customer."""
    event = pm_event(f"evt_f{n}", f"cus_f{n}", "card", 1795340000 + n)
    event["data"]["object"]["invoice_settings"]["default_payment_method"] = f"pm_f{n}"
    return event


def test_a_batch_fetches_concurrently_within_the_connections_bound(client, demo, stand_in):  # type: ignore[no-untyped-def]
    ids = [post(client, by_id(n)) for n in range(12)]
    result = batch.process_events(demo, ids)
    assert (result.processed, result.failed) == (12, 0)
    assert len(stand_in.seen) == 12
    assert stand_in.most_in_flight == 3  # overlapped, and never more than HUB_FETCH_CONCURRENCY


@pytest.mark.parametrize("stand_in", [{"retry_after": 30}], indirect=True)
def test_a_retry_after_pauses_the_whole_connection(client, demo, stand_in):  # type: ignore[no-untyped-def]
    ids = [post(client, by_id(n)) for n in range(12)]
    result = batch.process_events(demo, ids)
    assert (result.processed, result.failed) == (0, 12)
    assert len(stand_in.seen) <= 3  # the calls already in flight; the rest never reached the vendor
    with demo.uow() as uow:
        rows = uow.session.scalars(select(InboxEvent).where(InboxEvent.id.in_(ids))).all()
    assert {r.status for r in rows} == {"retrying"}
    assert {r.error_class for r in rows} == {"retryable"}
    with demo.uow() as uow:
        due = uow.session.scalars(select(RecipeRun.next_attempt_at)
                                  .where(RecipeRun.inbox_event_id.in_(ids))).all()
    assert len(due) == 12 and min(due) >= utcnow() + timedelta(seconds=20)  # the vendor's wait is a floor
    assert demo.connections.gate("stripe").paused_for() > 20
