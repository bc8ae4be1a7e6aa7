"""POST /webhooks/<connection>: verify, store before acknowledging, dedupe, refuse forgeries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
import stripe
from sqlalchemy import func, select

from hub.db.models import InboxEvent, SecurityEvent, WebhookDelivery
from tests.conftest import dispatched

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
STRIPE_SECRET = "whsec_test_0123456789abcdef"
QB_TOKEN = "qb-verifier-token"
SF_ORG = "00D5e000000AbCdEAK"
ENV = {
    "HUB_STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
    "HUB_CHARGEBEE_WEBHOOK_USERNAME": "cb-user",
    "HUB_CHARGEBEE_WEBHOOK_PASSWORD": "cb-pass",
    "HUB_CHARGEBEE_SITE": "acme-test",
    "HUB_QUICKBOOKS_VERIFIER_TOKEN": QB_TOKEN,
    "HUB_QUICKBOOKS_REALM_ID": "9341455012345678",
    "HUB_SALESFORCE_ORGANIZATION_ID": SF_ORG,
    "HUB_SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com",
    "HUB_SALESFORCE_SESSION_ID": "sess",
    "HUB_SALESFORCE_MATCH_FIELD": "Billing_External_Id__c",
}


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.with_overrides({"env": ENV})


def stripe_headers(body: bytes, secret: str = STRIPE_SECRET, at: int | None = None) -> dict:
    at = at or int(time.time())
    signature = stripe.WebhookSignature._compute_signature(f"{at}.{body.decode()}", secret)
    return {"Stripe-Signature": f"t={at},v1={signature}", "Content-Type": "application/json"}


def count(hub, model) -> int:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_signed_stripe_event_is_stored_once_and_dispatched_once(client, hub, queue, admin):  # type: ignore[no-untyped-def]
    body = (SAMPLES / "stripe_customer_updated.json").read_bytes()
    first = client.post("/webhooks/stripe", data=body, headers=stripe_headers(body))
    assert first.status_code == 200
    second = client.post("/webhooks/stripe", data=body, headers=stripe_headers(body))
    assert second.status_code == 200
    assert count(hub, InboxEvent) == 1 and count(hub, WebhookDelivery) == 1
    assert queue.sent == []  # the request only stores: the dispatcher publishes
    assert len(dispatched(hub)) == 1
    assert dispatched(hub) == []  # claimed once
    listed = client.get("/api/v1/events?connection=stripe", headers=admin).json
    assert listed["total"] == 1
    event = listed["events"][0]
    assert event["vendorEventId"] == "evt_1SdXq2LkdIwHu7ixQ9b3Zc1T" and event["status"] == "received"
    assert event["enqueuedAt"] is not None
    detail = client.get(f"/api/v1/events/{event['id']}", headers=admin).json
    assert detail["payload"]["type"] == "customer.updated"


def test_raw_body_kept_and_secret_headers_dropped(client, hub):  # type: ignore[no-untyped-def]
    body = (SAMPLES / "stripe_customer_updated.json").read_bytes()
    client.post("/webhooks/stripe", data=body, headers={**stripe_headers(body), "X-Trace": "abc"})
    with hub.uow() as uow:
        delivery = uow.session.scalars(select(WebhookDelivery)).one()
        assert delivery.body == body
        assert "stripe-signature" not in delivery.headers and delivery.headers["x-trace"] == "abc"


@pytest.mark.parametrize("tamper", ["body", "secret", "stale", "missing"])
def test_forged_stripe_event_is_refused_and_only_counted(client, hub, tamper):  # type: ignore[no-untyped-def]
    body = (SAMPLES / "stripe_customer_updated.json").read_bytes()
    headers = stripe_headers(body)
    if tamper == "body":
        body = body.replace(b"Acme", b"Evil")
    elif tamper == "secret":
        headers = stripe_headers(body, secret="whsec_wrong")
    elif tamper == "stale":
        headers = stripe_headers(body, at=int(time.time()) - 3600)
    else:
        headers.pop("Stripe-Signature")
    r = client.post("/webhooks/stripe", data=body, headers=headers)
    assert r.status_code == 400
    assert count(hub, InboxEvent) == 0 and count(hub, WebhookDelivery) == 0
    assert count(hub, SecurityEvent) == 1


def test_chargebee_basic_auth(client, hub):  # type: ignore[no-untyped-def]
    body = (SAMPLES / "chargebee_customer_changed.json").read_bytes()
    good = "Basic " + base64.b64encode(b"cb-user:cb-pass").decode()
    bad = "Basic " + base64.b64encode(b"cb-user:nope").decode()
    assert client.post("/webhooks/chargebee", data=body, headers={"Authorization": bad}).status_code == 401
    assert client.post("/webhooks/chargebee", data=body).status_code == 401
    assert client.post("/webhooks/chargebee", data=body, headers={"Authorization": good}).status_code == 200
    assert count(hub, InboxEvent) == 1 and count(hub, SecurityEvent) == 2


@pytest.mark.parametrize("sample", ["quickbooks_notification.json", "quickbooks_notification_cloudevents.json"])
def test_quickbooks_notification_becomes_one_row_per_entity(client, hub, sample):  # type: ignore[no-untyped-def]
    body = (SAMPLES / sample).read_bytes()
    signature = base64.b64encode(hmac.new(QB_TOKEN.encode(), body, hashlib.sha256).digest()).decode()
    assert client.post("/webhooks/quickbooks", data=body,
                       headers={"intuit-signature": "AAAA" + signature[4:]}).status_code == 401
    assert client.post("/webhooks/quickbooks", data=body,
                       headers={"intuit-signature": signature}).status_code == 200
    assert count(hub, InboxEvent) == 2


def test_salesforce_outbound_message_is_acked_after_storing(client, hub):  # type: ignore[no-untyped-def]
    body = (SAMPLES / "salesforce_outbound_message.xml").read_bytes()
    r = client.post("/webhooks/salesforce", data=body, headers={"Content-Type": "text/xml"})
    assert r.status_code == 200 and b"<Ack>true</Ack>" in r.data
    assert count(hub, InboxEvent) == 2
    foreign = body.replace(SF_ORG.encode(), b"00D000000000000AAA")
    r = client.post("/webhooks/salesforce", data=foreign, headers={"Content-Type": "text/xml"})
    assert r.status_code == 401 and b"Fault" in r.data and b"<Ack>" not in r.data
    assert count(hub, InboxEvent) == 2


def test_hostile_xml_is_refused(client, hub):  # type: ignore[no-untyped-def]
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>')
    r = client.post("/webhooks/salesforce", data=bomb, headers={"Content-Type": "text/xml"})
    assert r.status_code == 400 and b"<soapenv:Fault>" in r.data and b"<Ack>" not in r.data
    assert r.content_type.startswith("text/xml")
    assert count(hub, InboxEvent) == 0


def test_unknown_connection_malformed_and_oversized(client, hub):  # type: ignore[no-untyped-def]
    assert client.post("/webhooks/nope", data=b"{}").status_code == 404
    body = b"{not json"
    assert client.post("/webhooks/stripe", data=body, headers=stripe_headers(body)).status_code == 400
    big = b"{" + b" " * (1024 * 1024 + 1) + b"}"
    assert client.post("/webhooks/stripe", data=big, headers=stripe_headers(big)).status_code == 413
    assert count(hub, InboxEvent) == 0


def test_unhandled_event_type_is_stored_as_ignored_and_not_enqueued(client, hub, queue):  # type: ignore[no-untyped-def]
    body = json.dumps({"id": "evt_inv", "object": "event", "type": "invoice.paid", "created": 1795340123,
                       "data": {"object": {"id": "in_1", "object": "invoice"}}}).encode()
    assert client.post("/webhooks/stripe", data=body, headers=stripe_headers(body)).status_code == 200
    with hub.uow() as uow:
        assert uow.session.scalars(select(InboxEvent.status)).all() == ["ignored"]
    assert dispatched(hub) == [] and queue.sent == []


def test_broker_down_still_acknowledges_and_keeps_the_event(client, hub, queue):  # type: ignore[no-untyped-def]
    queue.up = False
    body = (SAMPLES / "stripe_customer_updated.json").read_bytes()
    assert client.post("/webhooks/stripe", data=body, headers=stripe_headers(body)).status_code == 200
    with hub.uow() as uow:
        event = uow.session.scalars(select(InboxEvent)).one()
        assert event.status == "received" and event.enqueued_at is None
    assert dispatched(hub) == []  # claimed, refused by the broker: handed back for a later pass
    with hub.uow() as uow:
        assert uow.session.get(InboxEvent, event.id).enqueued_at is None
    from datetime import timedelta

    from hub.services.ingest.inbox import enqueue_stragglers

    queue.up = True
    assert enqueue_stragglers(hub, older_than=timedelta(0)) == 1
    assert queue.sent == [("hub.process_events", ([event.id],))]


def test_database_down_answers_503(client, hub, settings):  # type: ignore[no-untyped-def]
    from hub.db.engine import Database

    hub.db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    body = (SAMPLES / "stripe_customer_updated.json").read_bytes()
    r = client.post("/webhooks/stripe", data=body, headers=stripe_headers(body))
    assert r.status_code == 503


def test_metrics_count_accepted_duplicates_and_refusals(client, hub):  # type: ignore[no-untyped-def]
    body = (SAMPLES / "stripe_customer_updated.json").read_bytes()
    client.post("/webhooks/stripe", data=body, headers=stripe_headers(body))
    client.post("/webhooks/stripe", data=body, headers=stripe_headers(body))
    client.post("/webhooks/stripe", data=body, headers=stripe_headers(body, secret="whsec_forged"))
    text = client.get("/metrics").data.decode()
    for outcome in ("accepted", "duplicate", "refused_signature"):
        assert f'hub_webhooks_total{{connection="stripe",outcome="{outcome}"}} 1.0' in text
    assert 'hub_security_events{connection="stripe",kind="signature_invalid"} 1.0' in text
    assert 'hub_inbox_events{connection="stripe",status="received"} 1.0' in text
