"""The dashboard (GET /): traffic per connection, runs per hour, latest failures, on real data:
events posted through the real webhook route with a real Stripe signature, runs made by the real
processing service."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
import stripe
from sqlalchemy import update

from hub.db.models import InboxEvent, RecipeRun, Workflow
from hub.db.types import utcnow
from hub.services.processing.process import process_event
from tests.conftest import last_dispatched

ROOT = Path(__file__).resolve().parents[2]
STRIPE_SECRET = "whsec_pages_test_secret"
ENV = {"HUB_STRIPE_WEBHOOK_SECRET": STRIPE_SECRET, "HUB_STRIPE_API_KEY": "sk_test_pages",
       "HUB_CHARGEBEE_WEBHOOK_USERNAME": "cb-user", "HUB_CHARGEBEE_WEBHOOK_PASSWORD": "cb-pass",
       "HUB_CHARGEBEE_SITE": "acme-test"}


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.with_overrides({"env": ENV, "recipes_dir": str(ROOT / "recipes")})


def card_customer(event_id: str, customer: str, method: str = "card") -> dict:
    """A customer.created whose payment method is expanded already: processing calls no API."""
    obj = {"id": customer, "object": "customer", "name": f"{customer} Inc", "email": None, "currency": "usd",
           "metadata": {}, "default_source": None,
           "invoice_settings": {"default_payment_method": {"id": f"pm_{event_id}", "type": method}}}
    return {"id": event_id, "object": "event", "type": "customer.created", "created": int(time.time()) - 60,
            "livemode": False, "data": {"object": obj}}


def post_stripe(client, event: dict, secret: str = STRIPE_SECRET, **headers: str):  # type: ignore[no-untyped-def]
    """POST /webhooks/stripe signed as Stripe signs; the answer."""
    body = json.dumps(event).encode()
    signature = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, int(time.time()))
    return client.post("/webhooks/stripe", data=body,
                       headers={"Stripe-Signature": signature, "Content-Type": "application/json", **headers})


def stored(hub, client, event: dict) -> int:  # type: ignore[no-untyped-def]
    """Post an event, then the id of the inbox row it became (the last one dispatched)."""
    answer = post_stripe(client, event)
    assert answer.status_code == 200, answer.data
    return last_dispatched(hub)


def cell(html: str, connection: str, name: str) -> str:
    row = re.search(rf'<tr data-connection="{connection}">(.*?)</tr>', html, re.S)
    assert row, f"no row for {connection}"
    found = re.search(rf'data-count="{name}">(.*?)</td>', row.group(1), re.S)
    assert found, f"no {name} cell"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def chart_of(html: str) -> dict:
    found = re.search(r"data-series='([^']*)'", html)
    assert found, "the chart carries no data"
    return json.loads(found.group(1).replace("&#39;", "'"))


def test_traffic_per_connection_counts_the_last_hour_day_refusals_and_waiting(as_ops, demo):  # type: ignore[no-untyped-def]
    ids = [stored(demo, as_ops, card_customer(f"evt_dash_{i}", f"cus_dash_{i}")) for i in range(4)]
    with demo.uow() as uow:  # one of them arrived five hours ago: the day counts it, the hour not
        uow.session.execute(update(InboxEvent).where(InboxEvent.id == ids[3])
                            .values(received_at=utcnow() - timedelta(hours=5)))
        uow.commit()
    assert process_event(demo, ids[0]).status == "processed"
    assert post_stripe(as_ops, card_customer("evt_forged", "cus_x"), secret="whsec_wrong").status_code == 400
    html = as_ops.get("/").get_data(as_text=True)
    assert cell(html, "stripe", "last-hour") == "3"
    assert cell(html, "stripe", "last-day") == "4"
    assert cell(html, "stripe", "refused") == "1"
    assert cell(html, "stripe", "waiting") == "3"
    assert cell(html, "stripe", "lag").endswith(" h")  # the oldest waiting event is five hours old
    assert cell(html, "chargebee", "last-day") == "0"  # configured, no event yet: listed all the same


def test_every_configured_connection_is_listed_with_its_state(as_admin, demo):  # type: ignore[no-untyped-def]
    html = as_admin.get("/").get_data(as_text=True)
    for name, state in demo.connections.health().items():
        row = re.search(rf'<tr data-connection="{name}">(.*?)</tr>', html, re.S)
        assert row, name
        assert ("misconfigured" if state == "invalid" else "status-ok") in row.group(1)


def test_runs_chart_buckets_by_hour_and_status_with_a_table_fallback(as_ops, demo):  # type: ignore[no-untyped-def]
    first = stored(demo, as_ops, card_customer("evt_chart_1", "cus_chart_1"))
    second = stored(demo, as_ops, card_customer("evt_chart_2", "cus_chart_2"))
    process_event(demo, first)
    process_event(demo, second)
    with demo.uow() as uow:  # the first event's runs were three hours ago
        uow.session.execute(update(RecipeRun).where(RecipeRun.inbox_event_id == first)
                            .values(created_at=utcnow() - timedelta(hours=3)))
        uow.commit()
    html = as_ops.get("/").get_data(as_text=True)
    chart = chart_of(html)
    assert len(chart["labels"]) == 24
    series = {s["status"]: s["counts"] for s in chart["series"]}
    succeeded = series["succeeded"]
    assert succeeded[23] >= 1 and succeeded[20] == succeeded[23] and sum(succeeded) == 2 * succeeded[23]
    assert sum(series["failed"]) == 0
    assert '<table id="runs-by-hour">' in html and "<details" in html  # the numbers without the chart
    assert "chart-4.6.1.umd.min.js" in html and "dashboard.js" in html
    assert "<script>" not in html and 'style="' not in html  # the CSP allows neither


def test_latest_failures_link_to_their_runs_and_to_all_failures(as_ops, demo):  # type: ignore[no-untyped-def]
    with demo.uow() as uow:  # the recipe names a workflow that no longer exists: a config failure
        uow.session.get(Workflow, "wf_card").name = "Cards (old)"
        uow.commit()
    inbox_id = stored(demo, as_ops, card_customer("evt_fail", "cus_fail"))
    process_event(demo, inbox_id)
    with demo.uow() as uow:
        failed = uow.session.query(RecipeRun).filter_by(status="failed").one()
    html = as_ops.get("/").get_data(as_text=True)
    failures = re.search(r'<table id="latest-failures">(.*?)</table>', html, re.S)
    assert failures, "no failure listed"
    assert f'href="/runs/{failed.id}"' in failures.group(1)
    assert "stripe-payment-method-to-workflow" in failures.group(1) and "Card payers" in failures.group(1)
    assert "status-config" in failures.group(1)
    assert 'href="/runs?status=failed"' in html
    series = {s["status"]: s["counts"] for s in chart_of(html)["series"]}
    assert sum(series["failed"]) == 1  # in the chart too


def test_an_account_manager_is_sent_to_their_customers(as_manager):  # type: ignore[no-untyped-def]
    answer = as_manager.get("/")
    assert answer.status_code == 303 and answer.headers["Location"] == "/customers"


def test_an_unknown_parameter_is_a_400(as_ops):  # type: ignore[no-untyped-def]
    answer = as_ops.get("/?connexion=stripe")
    assert answer.status_code == 400 and "connexion" in answer.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(client, demo):  # type: ignore[no-untyped-def]
    answer = client.get("/")
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/sign-in")
