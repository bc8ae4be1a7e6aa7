"""Chargebee connector: Basic auth, v2 events, payment-method resolution and API error mapping."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
import respx

from connectors import _chargebee_mapping as mapping
from hub.errors import (
    ConfigError,
    InvalidInput,
    MalformedBody,
    SignatureVerificationError,
    VendorUnavailable,
)

API = "https://acme-test.chargebee.com/api/v2"
SAMPLE = "customer_changed_direct_debit.json"


def normalise(kit, harness, fixture, **overrides):
    connector = harness.connector(**overrides)
    with harness.fake_api() as router:
        events = kit.normalise_all(connector, harness.signed(kit.body("chargebee", fixture)))
        calls = list(router.calls)  # respx forgets its calls on exit
    return events, calls


@pytest.mark.parametrize(
    ("fixture", "event_type", "external_id", "payment_method"),
    [
        (SAMPLE, "customer.updated", "AzZiIqUmNp9lK2Xc", "ach_debit"),
        ("customer_created_card.json", "customer.created", "16BHuEQLVnoyDVgq7", "card"),
        ("customer_changed_offline_check.json", "customer.updated", "16BHuEQLVnpZ3Kgr0", "check"),
        ("customer_deleted.json", "customer.deleted", "16BHuEQLVnmKp1gp3", None),
        (
            "payment_source_added_sepa.json",
            "customer.payment_method.changed",
            "16BHuEQLVnoyDVgq7",
            "sepa_debit",
        ),
        (
            "payment_source_updated_paypal.json",
            "customer.payment_method.changed",
            "16BHuEQLVnqW2Fgr9",
            "paypal",
        ),
        ("card_added.json", "customer.payment_method.changed", "16BHuEQLVnpZ3Kgr0", "card"),
    ],
)
def test_fixture_normalises_to_expected_event(
    kit, chargebee_kit, fixture, event_type, external_id, payment_method
):
    (event,), _ = normalise(kit, chargebee_kit, fixture)
    assert event["type"] == event_type
    assert event["customer"]["external_id"] == external_id
    assert event["customer"].get("payment_method") == payment_method


def test_sample_customer_fields(kit, chargebee_kit):
    (event,), _ = normalise(kit, chargebee_kit, SAMPLE)
    assert event["customer"]["name"] == "Acme Logistics LLC"
    assert event["customer"]["email"] == "dana.ruiz@acme-logistics.example"
    assert event["customer"]["currency"] == "usd"
    assert event["customer"]["custom_fields"] == {"sales_region": "us-south"}
    # resource_version (ms) orders a customer's changes
    assert event["occurred_at"] == "2026-11-22T09:35:23.456000Z"
    assert "customer.payment_method" in event["changes"]


def test_direct_debit_scheme_fetched_from_primary_payment_source(kit, chargebee_kit):
    _, calls = normalise(kit, chargebee_kit, SAMPLE)
    (call,) = calls
    assert call.request.url == f"{API}/payment_sources/pm_AzZiIqUmNpA3Lq9d"
    expected = base64.b64encode(b"test_cbLiveLookingKey123:").decode()
    assert call.request.headers["authorization"] == f"Basic {expected}"


def test_scheme_in_event_needs_no_api_call(kit, chargebee_kit):
    _, calls = normalise(kit, chargebee_kit, "payment_source_added_sepa.json")
    assert calls == []


def test_name_falls_back_to_person(kit, chargebee_kit):
    (event,), _ = normalise(kit, chargebee_kit, "customer_created_card.json")
    assert event["customer"]["name"] == "Mara Okafor"
    assert event["customer"]["custom_fields"] == {"sales_region": "emea", "segment": "smb"}


def test_api_base_override_is_used(kit, chargebee_kit):
    connector = chargebee_kit.connector(api_base="https://cb-fake.example/api/v2/")
    source = kit.load_json("chargebee", "api", "payment_sources.json")["pm_AzZiIqUmNpA3Lq9d"]
    with respx.mock(assert_all_called=True) as router:
        router.get("https://cb-fake.example/api/v2/payment_sources/pm_AzZiIqUmNpA3Lq9d").respond(json=source)
        (event,) = kit.normalise_all(connector, chargebee_kit.signed(kit.body("chargebee", SAMPLE)))
    assert event["customer"]["payment_method"] == "ach_debit"


def test_missing_api_key_when_scheme_needed_is_config_error(kit, chargebee_kit):
    connector = chargebee_kit.connector(api_key=None)
    with pytest.raises(ConfigError, match="api_key"):
        kit.normalise_all(connector, chargebee_kit.signed(kit.body("chargebee", SAMPLE)))


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    "authorization",
    [
        basic("hub-webhooks", "wrong"),
        basic("someone-else", "cb-basic-pa55word"),
        basic("", ""),
        "Bearer cb-basic-pa55word",
        "Basic not-base64!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "",
    ],
)
def test_wrong_credentials_are_refused_with_401(kit, chargebee_kit, authorization):
    connector = chargebee_kit.connector()
    request = kit.webhook(kit.body("chargebee", SAMPLE), {"Authorization": authorization})
    with pytest.raises(SignatureVerificationError) as caught:
        connector.verify(request)
    assert caught.value.http_status == 401
    reply = connector.refuse(caught.value)
    assert reply.status == 401
    assert reply.headers["WWW-Authenticate"].startswith("Basic")


def test_lowercase_scheme_is_accepted(kit, chargebee_kit):
    header = basic("hub-webhooks", "cb-basic-pa55word").replace("Basic", "basic")
    chargebee_kit.connector().verify(kit.webhook(b"{}", {"authorization": header}))


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"id": "ev_1", "event_type": "customer_changed", "api_version": "v1", "content": {}}',
        b'{"event_type": "customer_changed", "api_version": "v2", "content": {}}',
        b'{"id": "ev_1", "event_type": "customer_changed", "api_version": "v2"}',
    ],
)
def test_malformed_or_v1_events_are_refused(kit, chargebee_kit, body):
    with pytest.raises(MalformedBody):
        chargebee_kit.connector().parse(kit.webhook(body))


def test_unhandled_event_is_stored_as_ignored(kit, chargebee_kit):
    body = kit.body("chargebee", "invoice_generated_unhandled.json")
    (note,) = chargebee_kit.connector().parse(kit.webhook(body))
    assert note.handled is False
    assert note.occurred_at is not None


def test_event_without_customer_fetches_it(kit, chargebee_kit):
    event = kit.load_json("chargebee", "payment_source_updated_paypal.json")
    customer = event["content"].pop("customer")
    connector = chargebee_kit.connector()
    with respx.mock(base_url=API) as router:
        router.get("/customers/16BHuEQLVnqW2Fgr9").respond(json={"customer": customer})
        (result,) = kit.normalise_all(connector, chargebee_kit.signed(json.dumps(event).encode()))
    assert result["customer"]["payment_method"] == "paypal"


def test_event_without_any_customer_is_invalid(kit, chargebee_kit):
    body = json.dumps(
        {"id": "ev_x", "event_type": "customer_changed", "api_version": "v2", "content": {}}
    ).encode()
    with pytest.raises(InvalidInput):
        kit.normalise_all(chargebee_kit.connector(), chargebee_kit.signed(body))


def error_body(status: int, code: str) -> dict:
    return {"message": "fake", "type": "invalid_request", "api_error_code": code, "http_status_code": status}


@pytest.mark.parametrize(
    ("response", "error", "retry_after"),
    [
        (httpx.Response(500, json=error_body(500, "internal_error")), VendorUnavailable, None),
        (
            httpx.Response(
                429, json=error_body(429, "api_request_limit_exceeded"), headers={"Retry-After": "30"}
            ),
            VendorUnavailable,
            30.0,
        ),
        (httpx.Response(401, json=error_body(401, "api_authentication_failed")), ConfigError, None),
        (httpx.Response(404, json=error_body(404, "resource_not_found")), InvalidInput, None),
        (httpx.Response(503, text="<html>503 Service Unavailable</html>"), VendorUnavailable, None),
        (httpx.Response(502, text="Bad gateway"), VendorUnavailable, None),
    ],
)
def test_vendor_errors_are_mapped(kit, chargebee_kit, response, error, retry_after):
    connector = chargebee_kit.connector()
    with respx.mock(base_url=API) as router:
        router.get("/payment_sources/pm_AzZiIqUmNpA3Lq9d").mock(return_value=response)
        with pytest.raises(error) as caught:
            kit.normalise_all(connector, chargebee_kit.signed(kit.body("chargebee", SAMPLE)))
    assert getattr(caught.value, "retry_after", None) == retry_after
    assert "test_cbLiveLookingKey123" not in caught.value.message


def test_network_failure_is_retryable(kit, chargebee_kit):
    connector = chargebee_kit.connector()
    with respx.mock(base_url=API) as router:
        router.get("/payment_sources/pm_AzZiIqUmNpA3Lq9d").mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(VendorUnavailable):
            kit.normalise_all(connector, chargebee_kit.signed(kit.body("chargebee", SAMPLE)))


@pytest.mark.parametrize(("value", "expected"), list(mapping.OFFLINE_PAYMENT_METHODS.items()))
def test_offline_table(value, expected):
    assert mapping.offline_method(value) == expected


@pytest.mark.parametrize(("value", "expected"), list(mapping.DIRECT_DEBIT_SCHEMES.items()))
def test_scheme_table(value, expected):
    assert mapping.scheme_method(value) == expected


@pytest.mark.parametrize(("value", "expected"), list(mapping.PAYMENT_METHOD_TYPES.items()))
def test_payment_method_type_table(value, expected):
    assert mapping.online_method(value) == expected


@pytest.mark.parametrize(
    ("function", "value", "expected"),
    [
        (mapping.offline_method, None, "none"),
        (mapping.offline_method, "crypto", "other"),
        (mapping.scheme_method, None, "direct_debit"),
        (mapping.scheme_method, "new_scheme", "direct_debit"),
        (mapping.online_method, None, "none"),
        (mapping.online_method, "amazon_payments", "other"),
        (mapping.online_method, "generic", "other"),
    ],
)
def test_mapping_fallbacks(function, value, expected):
    assert function(value) == expected


def test_custom_fields_drop_prefix_and_keep_scalars():
    customer = {"id": "c", "cf_region": "emea", "cf_tags": ["a", "b"], "cf_flag": False, "email": "x"}
    assert mapping.custom_fields(customer) == {"region": "emea", "tags": "['a', 'b']", "flag": False}
