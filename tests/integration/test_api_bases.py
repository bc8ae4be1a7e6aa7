"""Every HUB_<CONNECTOR>_API_BASE on plain http://127.0.0.1:PORT, against real local HTTP stand-ins.

A notification goes in through the webhook, is stored, then processed (connector → vendor API →
recipes → assignment), as in a staging set-up. The QuickBooks token refresh goes to the
stand-in's discovery document, and after a restart (a new hub on the same database) the rotated
refresh token is the one presented.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hub.app import create_app
from hub.bootstrap import build_hub
from hub.db.models import ConnectorCredential, Customer, InboxEvent, WebhookDelivery
from hub.services.demo import load_demo
from hub.services.processing.process import process_event
from tests.conftest import RecordingQueue, dispatched
from tests.integration import standins

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = standins.FIXTURES
SECRET_KEY = "integration-secret-key-for-credentials"


def staged_hub(settings, env: dict[str, str]):  # type: ignore[no-untyped-def]
    """A hub configured like a staging set-up, with the repository's recipes and demo workflows."""
    configured = settings.with_overrides({"env": env, "secret_key": SECRET_KEY,
                                          "recipes_dir": str(ROOT / "recipes")})
    built = build_hub(configured, queue=RecordingQueue())
    with built.uow() as uow:
        load_demo(uow.session)
        uow.commit()
    return built


def deliver(hub, connection: str, body: bytes, headers: dict[str, str]) -> list[int]:  # type: ignore[no-untyped-def]
    """POST the webhook, then process what it stored, as the worker would."""
    client = create_app(hub=hub).test_client()
    response = client.post(f"/webhooks/{connection}", data=body, headers=headers)
    assert response.status_code == 200, response.data
    inbox_ids = dispatched(hub)
    for inbox_id in inbox_ids:
        process_event(hub, inbox_id)
    return inbox_ids


def normalised(hub, inbox_ids: list[int]) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        rows = uow.session.scalars(select(InboxEvent).where(InboxEvent.id.in_(inbox_ids))
                                   .order_by(InboxEvent.id)).all()
        assert all(row.error is None for row in rows), [row.error for row in rows]
        return [event for row in rows for event in (row.normalised or [])]


def workflow_of(hub, external_id: str) -> str | None:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        customer = uow.session.scalars(select(Customer).where(Customer.external_id == external_id)).one()
        return customer.workflow.name if customer.workflow else None


def test_stripe_customer_is_read_from_an_http_api_base_with_a_path(hub, settings):  # type: ignore[no-untyped-def]
    import stripe

    with standins.serving(standins.stripe("/staging/stripe")) as api:
        staged = staged_hub(settings, {
            "HUB_STRIPE_WEBHOOK_SECRET": "whsec_staging", "HUB_STRIPE_API_KEY": "sk_test_staging",
            "HUB_STRIPE_API_BASE": f"{api.base}/staging/stripe",
        })
        text = (FIXTURES / "stripe" / "payment_method_attached.json").read_text()
        header = stripe.WebhookSignature.generate_signature_header(text, "whsec_staging")
        ids = deliver(staged, "stripe", text.encode(), {"Stripe-Signature": header,
                                                         "Content-Type": "application/json"})
    assert api.paths() == ["/staging/stripe/v1/customers/cus_TbQ7nK1jQ3wX6b"]
    assert api.seen[0].query["expand[0]"] == ["invoice_settings.default_payment_method"]
    [event] = normalised(staged, ids)
    assert event["type"] == "customer.payment_method.changed"
    assert event["customer"]["external_id"] == "cus_TbQ7nK1jQ3wX6b"


def test_chargebee_direct_debit_scheme_is_read_from_an_http_api_base(hub, settings):  # type: ignore[no-untyped-def]
    with standins.serving(standins.chargebee("/staging/cb/api/v2")) as api:
        staged = staged_hub(settings, {
            "HUB_CHARGEBEE_WEBHOOK_USERNAME": "hub", "HUB_CHARGEBEE_WEBHOOK_PASSWORD": "pa55word-cb",
            "HUB_CHARGEBEE_SITE": "acme-test", "HUB_CHARGEBEE_API_KEY": "test_cb_key",
            "HUB_CHARGEBEE_API_BASE": f"{api.base}/staging/cb/api/v2",
        })
        body = (FIXTURES / "chargebee" / "customer_changed_direct_debit.json").read_bytes()
        auth = "Basic " + base64.b64encode(b"hub:pa55word-cb").decode()
        ids = deliver(staged, "chargebee", body, {"Authorization": auth, "Content-Type": "application/json"})
    assert api.paths() == ["/staging/cb/api/v2/payment_sources/pm_AzZiIqUmNpA3Lq9d"]
    [event] = normalised(staged, ids)
    assert event["customer"]["payment_method"] == "ach_debit"  # the scheme only the API knew
    assert workflow_of(staged, "AzZiIqUmNp9lK2Xc") == "Direct debit"


def quickbooks_env(base: str, **extra: str) -> dict[str, str]:
    return {
        "HUB_QUICKBOOKS_VERIFIER_TOKEN": "qbo-verifier", "HUB_QUICKBOOKS_REALM_ID": "9341455012345678",
        "HUB_QUICKBOOKS_CLIENT_ID": "ABclient", "HUB_QUICKBOOKS_CLIENT_SECRET": "qbo-secret",
        "HUB_QUICKBOOKS_REFRESH_TOKEN": "AB11seed-token", "HUB_QUICKBOOKS_API_BASE": f"{base}/v3",
        **extra,
    }


def intuit_signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(b"qbo-verifier", body, hashlib.sha256).digest()
    return {"intuit-signature": base64.b64encode(digest).decode(), "Content-Type": "application/json"}


@pytest.mark.parametrize(("environment", "discovery_path"), [
    ("production", "/.well-known/openid_configuration"),
    ("sandbox", "/.well-known/openid_sandbox_configuration"),
])
def test_quickbooks_both_formats_through_an_http_api_base_and_the_rotated_token_survives_a_restart(
    hub, settings, environment, discovery_path,
):  # type: ignore[no-untyped-def]
    tokens = standins.IntuitTokens(current="AB11seed-token")
    stand_in = standins.quickbooks("9341455012345678", tokens, discovery_path)
    with standins.serving(stand_in) as api:
        env = quickbooks_env(api.base, HUB_QUICKBOOKS_ENVIRONMENT=environment)
        first = staged_hub(settings, env)
        legacy = (FIXTURES / "quickbooks" / "legacy_customer_update_and_create.json").read_bytes()
        events = normalised(first, deliver(first, "quickbooks", legacy, intuit_signed(legacy)))

        restarted = build_hub(first.settings, queue=RecordingQueue())  # a new process, same database
        cloud = (FIXTURES / "quickbooks" / "cloudevents_customer_update_and_create.json").read_bytes()
        cloud_events = normalised(restarted, deliver(restarted, "quickbooks", cloud, intuit_signed(cloud)))

    assert discovery_path in api.paths()
    # The seed once, then the token Intuit rotated it to, presented by the restarted hub.
    assert tokens.presented == ["AB11seed-token", "rt-rotated-1"]
    for batch in (events, cloud_events):
        by_id = {e["customer"]["external_id"]: e["customer"] for e in batch}
        assert by_id["58"]["payment_method"] == "ach_debit"
        assert by_id["58"]["custom_fields"]["payment_terms"] == "Net 30"  # Term.get on the stand-in
        assert by_id["61"]["payment_method"] == "check"
    assert workflow_of(restarted, "58") == "Direct debit"
    with restarted.uow() as uow:
        [stored] = uow.session.scalars(select(ConnectorCredential)).all()
    assert "rt-rotated" not in stored.ciphertext and "AB11seed" not in stored.ciphertext
    assert restarted.connections.connector("quickbooks").credentials.current(
        "quickbooks", "refresh_token", "AB11seed-token") == "rt-rotated-2"


def test_quickbooks_discovery_url_setting_wins_over_the_api_host(hub, settings):  # type: ignore[no-untyped-def]
    tokens = standins.IntuitTokens(current="AB11seed-token")
    stand_in = standins.quickbooks("9341455012345678", tokens, "/staging/discovery.json")
    with standins.serving(stand_in) as api:
        staged = staged_hub(settings, quickbooks_env(
            api.base, HUB_QUICKBOOKS_DISCOVERY_URL=f"{api.base}/staging/discovery.json"))
        legacy = (FIXTURES / "quickbooks" / "legacy_customer_update_and_create.json").read_bytes()
        assert len(normalised(staged, deliver(staged, "quickbooks", legacy, intuit_signed(legacy)))) == 2
    assert api.paths()[0] == "/staging/discovery.json"
    assert tokens.presented == ["AB11seed-token"]


@pytest.mark.parametrize("variable", ["HUB_SALESFORCE_INSTANCE_URL", "HUB_SALESFORCE_API_BASE"])
def test_salesforce_accounts_and_owners_are_read_from_an_http_base_and_the_session_id_is_not_stored(
    hub, settings, variable,
):  # type: ignore[no-untyped-def]
    with standins.serving(standins.salesforce("/sf")) as api:
        staged = staged_hub(settings, {
            "HUB_SALESFORCE_ORGANIZATION_ID": "00D5e000000AbCdEAK",
            "HUB_SALESFORCE_MATCH_FIELD": "Billing_Id__c",
            "HUB_SALESFORCE_SESSION_ID": "00D5e!AQ0AQsessionForStaging",
            variable: f"{api.base}/sf",
        })
        template = (FIXTURES / "salesforce" / "outbound_two_accounts.xml").read_bytes()
        live_session = b"00D5e000000AbCd!AQ4AQLiveSessionValue.Do.Not.Store"
        body = _with_session(template, live_session)
        ids = deliver(staged, "salesforce", body, {"Content-Type": "text/xml; charset=utf-8"})
    events = normalised(staged, ids)
    assert {e["customer"]["external_id"]: e["customer"]["owner_email"] for e in events} == {
        "cus_TbQ8mJ2kP4xY7a": "jordan.lee@acme-sales.example",
        "cus_TbQ4jF8gL0tU3e": "priya.nair@acme-sales.example",
    }
    assert all(p.startswith("/sf/services/data/v59.0/") for p in api.paths())
    assert sum("/sobjects/Account/" in p for p in api.paths()) == 2  # the message lacked the match field
    with staged.uow() as uow:
        [delivery] = uow.session.scalars(select(WebhookDelivery)).all()
        stored = [json.dumps(r.payload) for r in uow.session.scalars(select(InboxEvent))]
    assert live_session not in delivery.body and b"<SessionId></SessionId>" in delivery.body
    assert b"<EnterpriseUrl></EnterpriseUrl>" in delivery.body
    assert not any(live_session.decode() in text for text in stored)


def _with_session(body: bytes, session: bytes) -> bytes:
    """The fixture with a live SessionId in place of its nil one ("Send Session ID" ticked)."""
    nil = b'<SessionId xsi:nil="true"/>'
    assert nil in body
    return body.replace(nil, b"<SessionId>" + session + b"</SessionId>")
