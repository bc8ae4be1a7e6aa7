"""QuickBooks connector: intuit-signature, both payload formats, fetched customers, OAuth and errors."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import requests
import responses

from connectors import _quickbooks_mapping as mapping
from hub.errors import (
    ConfigError,
    InvalidInput,
    MalformedBody,
    SignatureVerificationError,
    VendorUnavailable,
)

REALM = "9341455012345678"
LEGACY = "legacy_customer_update_and_create.json"
CLOUD = "cloudevents_customer_update_and_create.json"
CUSTOMER_58 = f"https://qbo.fake/v3/company/{REALM}/customer/58"


def parse(kit, harness, fixture):
    return harness.connector().parse(harness.signed(kit.body("quickbooks", fixture)))


def test_legacy_sample_becomes_one_notification_per_entity(kit, quickbooks_kit):
    first, second = parse(kit, quickbooks_kit, LEGACY)
    assert first.vendor_event_id == f"{REALM}:Customer:58:Update:2026-11-20T16:15:30Z"
    assert second.vendor_event_id == f"{REALM}:Customer:61:Create:2026-11-20T16:15:31Z"
    assert first.event_type == "Customer.Update"
    assert first.occurred_at == datetime(2026, 11, 20, 16, 15, 30, tzinfo=UTC)
    assert first.payload["realmId"] == REALM and first.handled


def test_cloudevents_sample_keeps_its_ids(kit, quickbooks_kit):
    first, second = parse(kit, quickbooks_kit, CLOUD)
    assert first.vendor_event_id == "3f0c9a5e-7b1d-4c2e-9a8f-0d1e2f3a4b5c-Customer-58"
    assert first.event_type == "qbo.customer.updated.v1"
    assert first.occurred_at == datetime(2026, 11, 20, 16, 15, 30, 512000, tzinfo=UTC)
    assert second.event_type == "qbo.customer.created.v1" and second.handled


def test_other_entities_and_realms_are_ignored(kit, quickbooks_kit):
    notes = parse(kit, quickbooks_kit, "legacy_mixed_entities_and_realms.json")
    handled = {(n.payload["name"], n.payload["realmId"]): n.handled for n in notes}
    assert handled == {
        ("Invoice", REALM): False,
        ("Customer", REALM): True,
        ("Payment", REALM): False,
        ("Customer", "4620816365999999999"): False,
    }


def test_cloudevent_for_another_entity_is_ignored(kit, quickbooks_kit):
    customer, invoice = parse(kit, quickbooks_kit, "cloudevents_customer_deleted_and_invoice.json")
    assert customer.handled and not invoice.handled


@pytest.mark.parametrize("fixture", [LEGACY, CLOUD])
def test_samples_normalise_with_fetched_customers(kit, quickbooks_kit, fixture):
    with quickbooks_kit.fake_api():
        updated, created = kit.normalise_all(
            quickbooks_kit.connector(), quickbooks_kit.signed(kit.body("quickbooks", fixture))
        )
    assert updated["type"] == "customer.updated"
    assert updated["customer"] == {
        "external_id": "58",
        "name": "Acme Logistics LLC",
        "email": "billing@acme-logistics.example",
        "currency": "usd",
        "payment_method": "ach_debit",
        "custom_fields": {"payment_terms": "Net 30", "preferred_delivery_method": "Email"},
    }
    assert created["type"] == "customer.created"
    assert created["customer"]["payment_method"] == "check"
    assert created["customer"]["custom_fields"]["payment_terms"] == "Net 15"
    assert "customer.payment_method" in updated["changes"]


def test_discovery_document_and_token_refresh_are_mocked_calls(kit, quickbooks_kit):
    with quickbooks_kit.fake_api() as api:
        kit.normalise_all(quickbooks_kit.connector(), quickbooks_kit.signed(kit.body("quickbooks", LEGACY)))
        urls = [call.request.url for call in api.calls]
        token_body = parse_qs(api.calls[1].request.body)
        customer_auth = api.calls[2].request.headers["Authorization"]
    assert urls[0] == quickbooks_kit.discovery_url
    assert urls[1] == quickbooks_kit.token_url
    assert token_body["grant_type"] == ["refresh_token"]
    assert token_body["refresh_token"] == ["AB11refresh-token-1"]
    assert customer_auth == "Bearer eyJfake.access.token"
    # PaymentMethod 5 and Term 3 are looked up once each, then cached
    assert sum("/paymentmethod/" in url for url in urls) == 2  # ids 5 and 2
    assert sum("/term/" in url for url in urls) == 1


def test_rotated_refresh_token_is_used_next_time(kit, quickbooks_kit):
    connector = quickbooks_kit.connector()
    with quickbooks_kit.fake_api() as api:
        connector.fetch_customer("58")
        connector._client_expires = 0  # token about to expire: rebuild
        connector.fetch_customer("61")
        refreshes = [parse_qs(c.request.body) for c in api.calls if c.request.url == quickbooks_kit.token_url]
    assert [r["refresh_token"] for r in refreshes] == [["AB11refresh-token-1"], ["AB11refresh-token-2"]]


@pytest.mark.parametrize(
    "fixture", ["legacy_customer_delete.json", "cloudevents_customer_deleted_and_invoice.json"]
)
def test_delete_needs_no_fetch(kit, quickbooks_kit, fixture):
    with responses.RequestsMock():  # any HTTP call would fail the test
        (event,) = kit.normalise_all(
            quickbooks_kit.connector(client_id=None, client_secret=None, refresh_token=None),
            quickbooks_kit.signed(kit.body("quickbooks", fixture)),
        )
    assert event["type"] == "customer.deleted"
    assert event["customer"] == {"external_id": "73"}


@pytest.mark.parametrize("fixture", ["legacy_customer_merge.json", "cloudevents_customer_merged.json"])
def test_merge_updates_survivor_and_deletes_merged(kit, quickbooks_kit, fixture):
    with quickbooks_kit.fake_api():
        survivor, merged = kit.normalise_all(
            quickbooks_kit.connector(), quickbooks_kit.signed(kit.body("quickbooks", fixture))
        )
    assert (survivor["type"], survivor["customer"]["external_id"]) == ("customer.updated", "58")
    assert (merged["type"], merged["customer"]["external_id"]) == ("customer.deleted", "74")
    assert survivor["id"].endswith(":0") and merged["id"].endswith(":1")


def test_signature_checks(kit, quickbooks_kit):
    body = kit.body("quickbooks", LEGACY)
    connector = quickbooks_kit.connector()
    connector.verify(quickbooks_kit.signed(body))
    for signature in ("", "not base64 at all", base64.b64encode(b"x" * 32).decode()):
        with pytest.raises(SignatureVerificationError) as caught:
            connector.verify(kit.webhook(body, {"intuit-signature": signature}))
        assert caught.value.http_status == 401


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"foo": 1}',
        b'{"eventNotifications": {}}',
        b'{"eventNotifications": [{"realmId": "1"}]}',
        b'[{"type": "qbo.customer.updated.v1"}]',
        b"[1]",
    ],
)
def test_malformed_bodies_are_refused(kit, quickbooks_kit, body):
    with pytest.raises(MalformedBody):
        quickbooks_kit.connector().parse(kit.webhook(body))


def test_missing_api_credentials_is_config_error(kit, quickbooks_kit):
    connector = quickbooks_kit.connector(client_id=None, client_secret=None, refresh_token=None)
    with pytest.raises(ConfigError, match="client_id"):
        kit.normalise_all(connector, quickbooks_kit.signed(kit.body("quickbooks", LEGACY)))


def failing_api(harness, **customer_response):
    api = responses.RequestsMock(assert_all_requests_are_fired=False)
    harness.add_oauth(api)
    api.add(responses.GET, CUSTOMER_58, **customer_response)
    return api


@pytest.mark.parametrize(
    ("response", "error", "retry_after"),
    [
        ({"status": 500, "body": "<html>Internal error</html>"}, VendorUnavailable, None),
        ({"status": 503, "body": "Service Unavailable"}, VendorUnavailable, None),
        ({"status": 429, "body": "Too Many", "headers": {"Retry-After": "60"}}, VendorUnavailable, 60.0),
        (
            {"status": 401, "json": {"fault": {"error": [{"message": "AuthenticationFailed"}]}}},
            ConfigError,
            None,
        ),
        (
            {"status": 400, "json": {"Fault": {"Error": [{"Message": "Object Not Found", "code": "610"}]}}},
            InvalidInput,
            None,
        ),
        ({"body": requests.ConnectionError("reset")}, VendorUnavailable, None),
    ],
)
def test_vendor_errors_are_mapped(kit, quickbooks_kit, response, error, retry_after):
    with failing_api(quickbooks_kit, **response), pytest.raises(error) as caught:
        quickbooks_kit.connector().fetch_customer("58")
    assert getattr(caught.value, "retry_after", None) == retry_after
    assert "qbo-client-secret" not in caught.value.message


@pytest.mark.parametrize(
    ("status", "error"), [(400, ConfigError), (401, ConfigError), (503, VendorUnavailable)]
)
def test_token_refresh_failures_are_mapped(kit, quickbooks_kit, status, error):
    with responses.RequestsMock() as api:
        api.add(
            responses.GET,
            quickbooks_kit.discovery_url,
            json=kit.load_json("quickbooks", "api", "discovery.json"),
        )
        api.add(responses.POST, quickbooks_kit.token_url, status=status, json={"error": "invalid_grant"})
        with pytest.raises(error):
            quickbooks_kit.connector().fetch_customer("58")


def test_discovery_outage_is_retryable(kit, quickbooks_kit):
    with responses.RequestsMock() as api:
        api.add(responses.GET, quickbooks_kit.discovery_url, status=503, body="down")
        with pytest.raises(VendorUnavailable):
            quickbooks_kit.connector().fetch_customer("58")


def test_backfill_uses_change_data_capture_with_webhook_ids(kit, quickbooks_kit):
    customers = kit.load_json("quickbooks", "api", "customers.json")
    deleted = {
        "domain": "QBO",
        "status": "Deleted",
        "Id": "73",
        "MetaData": {"LastUpdatedTime": "2026-11-20T09:02:11-08:00"},
    }
    cdc = {
        "CDCResponse": [
            {
                "QueryResponse": [
                    {"Customer": [customers["58"]["Customer"], deleted], "startPosition": 1, "maxResults": 2}
                ]
            }
        ],
        "time": "2026-11-20T09:30:00.000-08:00",
    }
    since = datetime.now(UTC) - timedelta(days=2)
    with responses.RequestsMock() as api:
        quickbooks_kit.add_oauth(api)
        api.add(responses.GET, f"https://qbo.fake/v3/company/{REALM}/cdc", json=cdc)
        notes = quickbooks_kit.connector().backfill(since)
        query = parse_qs(api.calls[-1].request.url.split("?", 1)[1])
    assert query["entities"] == ["Customer"]
    assert [n.vendor_event_id for n in notes] == [
        f"{REALM}:Customer:58:Update:2026-11-20T16:15:30Z",  # same id as the legacy webhook
        f"{REALM}:Customer:73:Delete:2026-11-20T17:02:11Z",
    ]
    assert all(n.handled for n in notes)
    legacy = parse(kit, quickbooks_kit, LEGACY)
    assert notes[0].vendor_event_id == legacy[0].vendor_event_id


def test_backfill_is_limited_to_thirty_days(kit, quickbooks_kit):
    cdc = {"CDCResponse": [{"QueryResponse": [{}]}], "time": "2026-11-20T09:30:00.000-08:00"}
    with responses.RequestsMock() as api:
        quickbooks_kit.add_oauth(api)
        api.add(responses.GET, f"https://qbo.fake/v3/company/{REALM}/cdc", json=cdc)
        assert quickbooks_kit.connector().backfill(datetime(2020, 1, 1, tzinfo=UTC)) == []
        changed_since = parse_qs(api.calls[-1].request.url.split("?", 1)[1])["changedSince"][0]
    assert changed_since.startswith(str((datetime.now(UTC) - timedelta(days=30)).year))


@pytest.mark.parametrize(
    ("method_type", "name", "expected"),
    [
        ("CREDIT_CARD", "Visa", "card"),
        ("CREDIT_CARD", "Company Amex", "card"),
        ("NON_CREDIT_CARD", "Cash", "cash"),
        ("NON_CREDIT_CARD", "Check", "check"),
        ("NON_CREDIT_CARD", "Cheque", "check"),
        ("NON_CREDIT_CARD", "ACH Bank Debit", "ach_debit"),
        ("NON_CREDIT_CARD", "EFT", "ach_debit"),
        ("NON_CREDIT_CARD", "eCheck", "ach_debit"),
        ("NON_CREDIT_CARD", "Direct Debit (ACH)", "ach_debit"),
        ("NON_CREDIT_CARD", "SEPA Direct Debit", "sepa_debit"),
        ("NON_CREDIT_CARD", "BACS", "bacs_debit"),
        ("NON_CREDIT_CARD", "Direct Debit", "direct_debit"),
        ("NON_CREDIT_CARD", "Wire", "bank_transfer"),
        ("NON_CREDIT_CARD", "Bank transfer", "bank_transfer"),
        ("NON_CREDIT_CARD", "PayPal", "paypal"),
        ("NON_CREDIT_CARD", "Cash App", "other"),
        ("NON_CREDIT_CARD", "Machine barter", "other"),
        ("NON_CREDIT_CARD", "", "other"),
        (None, "Check", "check"),
    ],
)
def test_payment_method_mapping(method_type, name, expected):
    assert mapping.payment_method_from(method_type, name) == expected


@pytest.mark.parametrize(("keyword", "expected"), mapping.PAYMENT_METHOD_KEYWORDS)
def test_every_keyword_maps_as_documented(keyword, expected):
    assert mapping.payment_method_from("NON_CREDIT_CARD", keyword.title()) == expected


def test_notification_payloads_are_json(kit, quickbooks_kit):
    for fixture in (LEGACY, CLOUD):
        for note in parse(kit, quickbooks_kit, fixture):
            assert json.loads(json.dumps(note.payload)) == note.payload


def test_refused_access_token_is_refreshed_and_the_call_tried_once_more(kit, quickbooks_kit):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as api:
        quickbooks_kit.add_oauth(api)
        # responses answers a URL's registrations in turn: the 401 first, then the real customer.
        api.add(responses.GET, CUSTOMER_58, status=401, json={"fault": {"error": [{"message": "revoked"}]}})
        quickbooks_kit.add_entities(api, "customer", _api("customers.json"))
        quickbooks_kit.add_entities(api, "paymentmethod", _api("payment_methods.json"))
        quickbooks_kit.add_entities(api, "term", _api("terms.json"))
        customer = quickbooks_kit.connector().fetch_customer("58")
        refreshes = [c for c in api.calls if c.request.url == quickbooks_kit.token_url]
    assert customer["external_id"] == "58"
    assert len(refreshes) == 2  # the first token, then a fresh one after the 401


def test_access_token_refused_twice_is_a_config_error(kit, quickbooks_kit):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as api:
        quickbooks_kit.add_oauth(api)
        api.add(responses.GET, CUSTOMER_58, status=401, json={"fault": {"error": [{"message": "revoked"}]}})
        with pytest.raises(ConfigError) as caught:
            quickbooks_kit.connector().fetch_customer("58")
        refreshes = [c for c in api.calls if c.request.url == quickbooks_kit.token_url]
    assert caught.value.http_status == 500 and "401" in caught.value.message
    assert len(refreshes) == 2


def _api(name):
    import json
    from pathlib import Path

    return json.loads((Path(__file__).parent / "fixtures" / "quickbooks" / "api" / name).read_text())

