"""Stripe connector: signatures, event routing, payment-method mapping and API error mapping."""

from __future__ import annotations

import json
import time

import pytest
import requests
import responses
import stripe

from connectors import _stripe_mapping as mapping
from hub.errors import (
    ConfigError,
    InvalidInput,
    MalformedBody,
    SignatureVerificationError,
    VendorUnavailable,
)

MISSING = object()


def events_for(kit, harness, fixture, **overrides):
    connector = harness.connector(**overrides)
    with harness.fake_api() as api:
        events = kit.normalise_all(connector, harness.signed(kit.body("stripe", fixture)))
        calls = list(api.calls)  # responses forgets its calls on exit
    return events, calls


@pytest.mark.parametrize(
    ("fixture", "event_type", "external_id", "payment_method", "changes"),
    [
        (
            "customer_updated_default_payment_method.json",
            "customer.payment_method.changed",
            "cus_TbQ8mJ2kP4xY7a",
            "ach_debit",
            ["customer.payment_method"],
        ),
        (
            "customer_created.json",
            "customer.created",
            "cus_TbQ7nK1jQ3wX6b",
            "none",
            ["customer.name", "customer.email", "customer.payment_method"],
        ),
        (
            "customer_updated_email_and_metadata.json",
            "customer.updated",
            "cus_TbQ8mJ2kP4xY7a",
            MISSING,
            ["customer.email", "customer.custom_fields.segment"],
        ),
        ("customer_deleted.json", "customer.deleted", "cus_TbQ6lH0iN2vW5c", MISSING, []),
        (
            "payment_method_attached.json",
            "customer.payment_method.changed",
            "cus_TbQ7nK1jQ3wX6b",
            "sepa_debit",
            ["customer.payment_method"],
        ),
        (
            "payment_method_detached.json",
            "customer.payment_method.changed",
            "cus_TbQ8mJ2kP4xY7a",
            "ach_debit",
            ["customer.payment_method"],
        ),
        (
            "payment_method_automatically_updated.json",
            "customer.payment_method.changed",
            "cus_TbQ5kG9hM1uV4d",
            "card",
            ["customer.payment_method"],
        ),
        (
            "customer_source_created.json",
            "customer.payment_method.changed",
            "cus_TbQ4jF8gL0tU3e",
            "ach_debit",
            ["customer.payment_method"],
        ),
    ],
)
def test_fixture_normalises_to_expected_event(
    kit, stripe_kit, fixture, event_type, external_id, payment_method, changes
):
    (event,), _ = events_for(kit, stripe_kit, fixture)
    assert event["type"] == event_type
    assert event["customer"]["external_id"] == external_id
    assert event["customer"].get("payment_method", MISSING) == payment_method
    for change in changes:
        assert change in event["changes"]


def test_sample_carries_customer_fields_and_stripe_time(kit, stripe_kit):
    (event,), _ = events_for(kit, stripe_kit, "customer_updated_default_payment_method.json")
    assert event["customer"]["email"] == "billing@acme-logistics.example"
    assert event["customer"]["currency"] == "usd"
    assert event["customer"]["custom_fields"] == {"crm_account_id": "001Hs00003XyZaBIAV"}
    assert event["occurred_at"] == "2026-11-22T09:35:23Z"
    assert event["vendor_event_id"] == "evt_1SdXq2LkdIwHu7ixQ9b3Zc1T"
    assert event["id"] == "stripe:evt_1SdXq2LkdIwHu7ixQ9b3Zc1T:0"


def test_fetch_uses_expand_and_api_base(kit, stripe_kit):
    _, calls = events_for(kit, stripe_kit, "customer_updated_default_payment_method.json")
    (call,) = calls
    assert call.request.url.startswith("https://stripe.fake/v1/customers/cus_TbQ8mJ2kP4xY7a")
    assert "invoice_settings.default_payment_method" in requests.utils.unquote(call.request.url)
    assert call.request.headers["Authorization"] == "Bearer sk_test_51FakeKeyForUnitTests"


def test_currency_is_lower_cased(kit, stripe_kit):
    (event,), _ = events_for(kit, stripe_kit, "customer_updated_email_and_metadata.json")
    assert event["customer"]["currency"] == "usd"


def test_plain_update_makes_no_api_call(kit, stripe_kit):
    _, calls = events_for(kit, stripe_kit, "customer_updated_email_and_metadata.json")
    assert calls == []


def test_expanded_default_payment_method_needs_no_fetch(kit, stripe_kit):
    event = kit.load_json("stripe", "customer_updated_default_payment_method.json")
    event["data"]["object"]["invoice_settings"]["default_payment_method"] = {
        "id": "pm_x",
        "object": "payment_method",
        "type": "bacs_debit",
    }
    connector = stripe_kit.connector(api_key=None)
    body = json.dumps(event).encode()
    (result,) = kit.normalise_all(connector, stripe_kit.signed(body))
    assert result["customer"]["payment_method"] == "bacs_debit"


def test_missing_api_key_when_fetch_needed_is_config_error(kit, stripe_kit):
    connector = stripe_kit.connector(api_key=None)
    request = stripe_kit.signed(kit.body("stripe", "customer_updated_default_payment_method.json"))
    with pytest.raises(ConfigError, match="api_key"):
        kit.normalise_all(connector, request)


def test_customer_created_without_method_needs_no_api_key(kit, stripe_kit):
    connector = stripe_kit.connector(api_key=None)
    (event,) = kit.normalise_all(connector, stripe_kit.signed(kit.body("stripe", "customer_created.json")))
    assert event["customer"]["payment_method"] == "none"


def test_unhandled_event_type_is_stored_as_ignored(kit, stripe_kit):
    connector = stripe_kit.connector()
    (note,) = connector.parse(stripe_kit.signed(kit.body("stripe", "invoice_paid_unhandled.json")))
    assert note.handled is False
    assert note.event_type == "invoice.paid"


def test_several_v1_signatures_pass_when_one_matches(kit, stripe_kit):
    body = kit.body("stripe", "customer_created.json")
    now = int(time.time())
    good = stripe.WebhookSignature.generate_signature_header(
        body.decode(), stripe_kit.config["webhook_secret"], now
    )
    old = stripe.WebhookSignature.generate_signature_header(body.decode(), "whsec_rotated_out", now)
    header = f"{good},v1={old.split('v1=')[1]}"
    stripe_kit.connector().verify(kit.webhook(body, {"Stripe-Signature": header}))


@pytest.mark.parametrize("age", [301, 3600])
def test_stale_timestamp_is_refused_with_400(kit, stripe_kit, age):
    body = kit.body("stripe", "customer_created.json")
    connection = stripe_kit.connection()
    headers = stripe_kit.sign(body, connection, int(time.time()) - age)
    with pytest.raises(SignatureVerificationError) as caught:
        stripe_kit.connector().verify(kit.webhook(body, headers))
    assert caught.value.http_status == 400


@pytest.mark.parametrize("header", ["", "garbage", "t=abc,v1=00", "t=1700000000", "v1=deadbeef"])
def test_broken_signature_header_is_refused(kit, stripe_kit, header):
    body = kit.body("stripe", "customer_created.json")
    with pytest.raises(SignatureVerificationError):
        stripe_kit.connector().verify(kit.webhook(body, {"Stripe-Signature": header}))


def test_refusal_is_json_error_body(kit, stripe_kit):
    reply = stripe_kit.connector().refuse(SignatureVerificationError("bad", http_status=400))
    assert reply.status == 400
    assert json.loads(reply.body)["error"]["code"] == "signature_invalid"


@pytest.mark.parametrize(
    "body", [b"{not json", b"[]", b'{"type": "customer.created"}', b'{"id": "", "type": "x"}']
)
def test_malformed_event_is_refused(kit, stripe_kit, body):
    with pytest.raises(MalformedBody):
        stripe_kit.connector().parse(kit.webhook(body))


def test_non_utf8_body_is_malformed(kit, stripe_kit):
    body = b"\xff\xfe{}"
    with pytest.raises(MalformedBody):
        stripe_kit.connector().verify(kit.webhook(body, {"Stripe-Signature": "t=1,v1=00"}))


def test_payment_method_event_without_customer_is_invalid(kit, stripe_kit):
    event = kit.load_json("stripe", "payment_method_detached.json")
    event["data"]["previous_attributes"] = {}
    with pytest.raises(InvalidInput):
        kit.normalise_all(stripe_kit.connector(), stripe_kit.signed(json.dumps(event).encode()))


def test_payment_method_event_for_deleted_customer_gives_no_event(kit, stripe_kit):
    request = stripe_kit.signed(kit.body("stripe", "payment_method_attached.json"))
    with responses.RequestsMock() as api:
        api.get(
            "https://stripe.fake/v1/customers/cus_TbQ7nK1jQ3wX6b",
            json={"id": "cus_TbQ7nK1jQ3wX6b", "object": "customer", "deleted": True},
        )
        assert kit.normalise_all(stripe_kit.connector(), request) == []


@pytest.mark.parametrize(
    ("status", "headers", "error", "retry_after"),
    [
        (500, {}, VendorUnavailable, None),
        (503, {}, VendorUnavailable, None),
        (429, {"Retry-After": "7"}, VendorUnavailable, 7.0),
        (401, {}, ConfigError, None),
        (403, {}, ConfigError, None),
        (404, {}, InvalidInput, None),
    ],
)
def test_vendor_errors_are_mapped(kit, stripe_kit, status, headers, error, retry_after):
    request = stripe_kit.signed(kit.body("stripe", "customer_updated_default_payment_method.json"))
    body = {"error": {"type": "api_error", "code": "fake", "message": "fake"}}
    with responses.RequestsMock() as api:
        api.get(
            "https://stripe.fake/v1/customers/cus_TbQ8mJ2kP4xY7a", status=status, json=body, headers=headers
        )
        with pytest.raises(error) as caught:
            kit.normalise_all(stripe_kit.connector(), request)
    assert getattr(caught.value, "retry_after", None) == retry_after
    assert "sk_test" not in caught.value.message


def test_connection_failure_is_retryable(kit, stripe_kit):
    request = stripe_kit.signed(kit.body("stripe", "payment_method_attached.json"))
    with responses.RequestsMock() as api:
        api.get(
            "https://stripe.fake/v1/customers/cus_TbQ7nK1jQ3wX6b",
            body=requests.ConnectionError("refused"),
        )
        with pytest.raises(VendorUnavailable):
            kit.normalise_all(stripe_kit.connector(), request)


@pytest.mark.parametrize(("stripe_type", "expected"), list(mapping.PAYMENT_METHOD_TYPES.items()))
def test_mapping_table(stripe_type, expected):
    assert mapping.payment_method_from_type(stripe_type) == expected


@pytest.mark.parametrize(
    ("stripe_type", "expected"),
    [
        (None, "none"),
        ("", "none"),
        ("cashapp", "other"),
        ("klarna", "other"),
        ("sofort_debit", "direct_debit"),
    ],
)
def test_mapping_fallbacks(stripe_type, expected):
    assert mapping.payment_method_from_type(stripe_type) == expected


@pytest.mark.parametrize(
    ("instrument", "expected"),
    [
        ({"object": "card", "brand": "Visa"}, "card"),
        ({"object": "bank_account", "country": "US"}, "bank_account"),
        ({"object": "source", "type": "sepa_debit"}, "sepa_debit"),
        ({"object": "payment_method", "type": "link"}, "link"),
        ({}, None),
    ],
)
def test_stripe_type_of_legacy_sources(instrument, expected):
    assert mapping.stripe_type_of(instrument) == expected


def test_changed_paths_from_previous_attributes():
    previous = {
        "email": "old@example.com",
        "invoice_settings": {"default_payment_method": None},
        "metadata": {"segment": "smb"},
        "address": {"city": "Paris"},
    }
    assert mapping.changed_paths(previous, {}) == [
        "customer.email",
        "customer.payment_method",
        "customer.custom_fields.segment",
    ]


def test_changed_paths_when_metadata_was_empty():
    current = {"metadata": {"tier": "gold"}}
    assert mapping.changed_paths({"metadata": {}}, current) == ["customer.custom_fields.tier"]
