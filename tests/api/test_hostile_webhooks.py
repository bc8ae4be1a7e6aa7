"""Signed but hostile vendor bodies are a 400 (a SOAP fault for Salesforce), counted, never stored,
and the hub keeps answering; a Salesforce session id never reaches the database."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import stripe
from sqlalchemy import select

from hub.db.models import Base, InboxEvent

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
STRIPE_SECRET = "whsec_hostile_test_secret"
SF_ORG = "00D5e000000AbCdEAK"
ENV = {
    "HUB_STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
    "HUB_SALESFORCE_ORGANIZATION_ID": SF_ORG,
    "HUB_SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com",
    "HUB_SALESFORCE_SESSION_ID": "00D5e!AQ0AQconfiguredSession",
    "HUB_SALESFORCE_MATCH_FIELD": "Billing_Id__c",
}


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.with_overrides({"env": ENV})


def event_text(**changes: object) -> str:
    event = {"id": "evt_hostile", "object": "event", "type": "customer.created", "created": int(time.time()),
             "data": {"object": {"id": "cus_hostile", "object": "customer", "metadata": {}}}}
    event.update(changes)
    return json.dumps(event)


def post_stripe(client, text: str):  # type: ignore[no-untyped-def]
    header = stripe.WebhookSignature.generate_signature_header(text, STRIPE_SECRET, int(time.time()))
    return client.post("/webhooks/stripe", data=text.encode(),
                       headers={"Stripe-Signature": header, "Content-Type": "application/json"})


HOSTILE_STRIPE = {
    "nested_100000": event_text()[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "integer_4400_digits": event_text()[:-1] + ', "x": ' + "9" * 4400 + "}",
    "created_1e17": event_text(created=10**17),
    "created_minus_1e17": event_text(created=-(10**17)),
    "created_in_an_hour": event_text(created=int(time.time()) + 3600),
    "nan": event_text()[:-1] + ', "x": NaN}',
    "infinity": event_text()[:-1] + ', "x": -Infinity}',
    "nul_in_value": event_text(livemode="a\u0000b"),
    "nul_in_key": event_text()[:-1] + ', "a\\u0000b": 1}',
    "event_id_too_long": event_text(id="evt_" + "x" * 400),
    "customer_id_too_long": event_text(data={"object": {"id": "cus_" + "x" * 300, "object": "customer"}}),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_STRIPE))
def test_hostile_signed_stripe_body_is_a_counted_400_and_the_hub_stays_up(client, hub, case):  # type: ignore[no-untyped-def]
    response = post_stripe(client, HOSTILE_STRIPE[case])
    assert response.status_code == 400, response.data
    assert response.json["error"]["code"] == "malformed_body"
    with hub.uow() as uow:
        assert uow.session.scalars(select(InboxEvent)).all() == []
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'hub_webhooks_total{connection="stripe",outcome="malformed"} 1.0' in metrics
    assert post_stripe(client, event_text(id="evt_after")).status_code == 200


def salesforce_message(org: str, field: bytes = b"") -> bytes:
    body = (SAMPLES / "salesforce_outbound_message.xml").read_bytes().replace(SF_ORG.encode(), org.encode())
    return body.replace(b"</sf:Id>", b"</sf:Id>" + field, 1)


DEEP = b"<sf:Deep>" * 30_000 + b"x" + b"</sf:Deep>" * 30_000


@pytest.mark.parametrize(("org", "status"), [(SF_ORG, 400), ("00D000000000001AAA", 401)],
                         ids=["right_org", "wrong_org"])
def test_salesforce_body_nested_30000_deep_is_a_soap_fault_4xx(client, hub, org, status):  # type: ignore[no-untyped-def]
    response = client.post("/webhooks/salesforce", data=salesforce_message(org, DEEP),
                           headers={"Content-Type": "text/xml"})
    assert response.status_code == status
    assert response.content_type.startswith("text/xml") and b"<soapenv:Fault>" in response.data
    with hub.uow() as uow:
        assert uow.session.scalars(select(InboxEvent)).all() == []


def test_salesforce_external_entity_is_refused_with_a_soap_fault(client):  # type: ignore[no-untyped-def]
    xxe = (b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">&x;</soapenv:Envelope>')
    response = client.post("/webhooks/salesforce", data=xxe, headers={"Content-Type": "text/xml"})
    assert response.status_code == 400 and b"<soapenv:Fault>" in response.data
    assert b"root:" not in response.data


def test_no_salesforce_session_id_anywhere_in_the_database(client, hub):  # type: ignore[no-untyped-def]
    live = "00D5e000000AbCd!AQ4AQLiveSessionFromTheMessage"
    nil = b'<SessionId xsi:nil="true"/>'  # the sample as sent without "Send Session ID"
    body = (SAMPLES / "salesforce_outbound_message.xml").read_bytes()
    with_session = body.replace(nil, f"<SessionId>{live}</SessionId>".encode())
    assert live.encode() in with_session
    response = client.post("/webhooks/salesforce", data=with_session, headers={"Content-Type": "text/xml"})
    assert response.status_code == 200 and b"<Ack>true</Ack>" in response.data
    found = []
    with hub.uow() as uow:
        for table in Base.metadata.sorted_tables:
            for row in uow.session.execute(select(table)).all():
                for value in row:
                    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else json.dumps(
                        value, default=str)
                    if live in text or "AQ4AQLive" in text:
                        found.append(table.name)
    assert found == []
    with hub.uow() as uow:
        assert len(uow.session.scalars(select(InboxEvent)).all()) == 2  # the message itself was stored
