"""One broken connection fails alone: its webhook answers 503, the others keep working, and
/healthz, /metrics and GET /api/v1/connections say which one is broken (without secrets)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import stripe
from sqlalchemy import select

from hub.db.models import Customer, InboxEvent
from hub.services.demo import load_demo
from hub.services.directory.keys import create_key
from hub.services.processing.process import process_event
from tests.conftest import dispatched

ROOT = Path(__file__).resolve().parents[2]
STRIPE_SECRET = "whsec_isolation_test_secret"
BROKEN_SALESFORCE = {
    "HUB_SALESFORCE_ORGANIZATION_ID": "not-an-org-id",            # wrong format
    "HUB_SALESFORCE_SESSION_ID": "00D5e!AQ0AQbrokenSessionValue",  # without an instance URL
    "HUB_SALESFORCE_INSTANCE_URL": "ftp://acme.example",           # not http(s)
}
ENV = {"HUB_STRIPE_WEBHOOK_SECRET": STRIPE_SECRET, **BROKEN_SALESFORCE}


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.with_overrides({"env": ENV, "recipes_dir": str(ROOT / "recipes")})


def signed_stripe(event: dict) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), STRIPE_SECRET, int(time.time()))
    return body, {"Stripe-Signature": header, "Content-Type": "application/json"}


def card_payer(event_id: str, customer: str) -> dict:
    obj = {"id": customer, "object": "customer", "name": "Isolated Inc", "email": None, "currency": "usd",
           "metadata": {}, "default_source": None,
           "invoice_settings": {"default_payment_method": {"id": "pm_1", "type": "card"}}}
    return {"id": event_id, "object": "event", "type": "customer.created", "created": int(time.time()) - 60,
            "data": {"object": obj}}


def test_stripe_keeps_working_while_salesforce_is_misconfigured(client, hub, queue):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        load_demo(uow.session)
        uow.commit()
    body, headers = signed_stripe(card_payer("evt_iso_1", "cus_iso_1"))
    response = client.post("/webhooks/stripe", data=body, headers=headers)
    assert response.status_code == 200, response.data
    assert queue.sent == []  # the request stores; the dispatcher publishes
    [inbox_id] = dispatched(hub)
    assert process_event(hub, inbox_id).status == "processed"
    with hub.uow() as uow:
        customer = uow.session.scalars(select(Customer).where(Customer.external_id == "cus_iso_1")).one()
        assert customer.workflow.name == "Card payers"


def test_the_broken_connection_answers_503_with_a_code_and_no_details(client, hub):  # type: ignore[no-untyped-def]
    body = (ROOT / "tests" / "samples" / "salesforce_outbound_message.xml").read_bytes()
    response = client.post("/webhooks/salesforce", data=body, headers={"Content-Type": "text/xml"})
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    error = response.json["error"]
    assert error["code"] == "connection_unavailable" and "details" not in error
    assert "organization_id" not in response.get_data(as_text=True)
    with hub.uow() as uow:
        assert uow.session.scalars(select(InboxEvent)).all() == []  # nothing half-stored


def test_healthz_names_the_broken_connection_without_its_problems(client):  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200  # degraded, not down: the other connections work
    assert response.json["status"] == "degraded"
    assert response.json["connections"] == {"salesforce": "invalid", "stripe": "ok"}
    text = response.get_data(as_text=True)
    assert "session_id" not in text and "AQ0AQ" not in text


def test_metrics_say_which_connection_is_unusable(client):  # type: ignore[no-untyped-def]
    text = client.get("/metrics").get_data(as_text=True)
    assert 'hub_connection_usable{connection="salesforce"} 0.0' in text
    assert 'hub_connection_usable{connection="stripe"} 1.0' in text


def test_connections_api_lists_states_and_problems_with_secrets_redacted(client, admin):  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/connections", headers=admin)
    assert response.status_code == 200
    by_name = {c["name"]: c for c in response.json["connections"]}
    assert by_name["stripe"]["state"] == "ok" and by_name["stripe"]["config"]["webhook_secret"] == "***"
    broken = by_name["salesforce"]
    assert broken["state"] == "invalid" and broken["connector"] == "salesforce"
    problems = " ".join(broken["problems"])
    assert "salesforce.organization_id" in problems and "salesforce.instance_url" in problems
    text = response.get_data(as_text=True)
    for secret in (STRIPE_SECRET, *BROKEN_SALESFORCE.values()):
        assert secret not in text


def test_connections_api_is_for_admins_only(client, hub):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        _, raw = create_key(uow.session, "ci", "integration")
        uow.commit()
    assert client.get("/api/v1/connections").status_code == 401
    assert client.get("/api/v1/connections", headers={"Authorization": f"Bearer {raw}"}).status_code == 403


def test_stored_events_of_a_broken_connection_fail_as_config_to_be_replayed(hub, settings):  # type: ignore[no-untyped-def]
    from hub.services.ingest.inbox import store_polled

    working = settings.with_overrides({"env": {**ENV, "HUB_SALESFORCE_ORGANIZATION_ID": "00D5e000000AbCdEAK",
                                               "HUB_SALESFORCE_INSTANCE_URL": "https://acme.example"}})
    from hub.bootstrap import build_hub
    from tests.conftest import RecordingQueue

    earlier = build_hub(working, queue=RecordingQueue())  # the set-up before someone broke it
    connector = earlier.connections.connector("salesforce")
    from connectors.base import Notification

    note = Notification("04l5e00000AbCdEAA1", "outbound_message.Account", None,
                        {"attributes": {"type": "Account"}, "Id": "0015e00000QrStUAAZ"}, True)
    [inbox_id] = store_polled(earlier, "salesforce", connector, [note])
    assert process_event(hub, inbox_id).status == "failed"
    with hub.uow() as uow:
        row = uow.session.get(InboxEvent, inbox_id)
        assert row.error_class == "config" and "misconfigured" in (row.error or "")


def test_recipes_validate_needs_neither_credentials_nor_a_database(tmp_path):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(BROKEN_SALESFORCE)
    env["HUB_DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # nothing listens there
    hub_cli = Path(sys.executable).with_name("hub")
    result = subprocess.run([str(hub_cli), "recipes", "validate", str(ROOT / "recipes")], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "5 recipe file(s), 0 error(s)" in result.stdout
