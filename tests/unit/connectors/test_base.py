"""Base contract helpers: event building and validation, timestamps, shared HTTP helpers, TTL cache."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from fastjsonschema import JsonSchemaValueException

from connectors._cache import TTLCache
from connectors._http import (
    basic_auth_credentials,
    constant_time_equals,
    error_for_status,
    parse_json_body,
    parse_retry_after,
    require_setting,
    retry_after_from,
)
from connectors._schemas import _event_validators
from connectors.base import (
    Connection,
    Connector,
    StoredNotification,
    WebhookRequest,
    build_event,
    format_timestamp,
    from_unix_millis,
    is_secret_field,
    parse_timestamp,
    validate_event,
)
from hub.errors import (
    ConfigError,
    InvalidInput,
    MalformedBody,
    NotFound,
    SignatureVerificationError,
    VendorUnavailable,
)


class EchoConnector(Connector):
    name = "stripe"  # borrows a built-in name so the event schema's connector enum accepts it

    def verify(self, request):
        return None

    def parse(self, request):
        return []

    def normalise(self, stored):
        return [self.event(stored, "customer.updated", {"external_id": "c1"}, ["customer.name"])]


def stored(**overrides) -> StoredNotification:
    values = {
        "inbox_id": 42,
        "connection": "stripe-eu",
        "vendor_event_id": "evt_1",
        "event_type": "customer.updated",
        "occurred_at": datetime(2026, 11, 20, 16, 15, 30, 123000, tzinfo=UTC),
        "payload": {},
    }
    return StoredNotification(**{**values, **overrides})


def test_event_is_built_and_valid():
    (event,) = EchoConnector(Connection("stripe-eu", "stripe", {})).normalise(stored())
    assert event == {
        "id": "stripe-eu:evt_1:0",
        "connection": "stripe-eu",
        "connector": "stripe",
        "type": "customer.updated",
        "vendor_event_id": "evt_1",
        "occurred_at": "2026-11-20T16:15:30.123000Z",
        "customer": {"external_id": "c1"},
        "changes": ["customer.name"],
        "raw_ref": "42",
    }


def test_occurred_at_falls_back_to_received_at():
    received = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    event = build_event(
        stored(occurred_at=None, received_at=received),
        connector="stripe",
        event_type="customer.created",
        customer={"external_id": "c"},
        changes=["customer.name", "customer.name"],
        index=2,
    )
    assert event["occurred_at"] == "2026-01-02T03:04:05Z"
    assert event["id"].endswith(":2")
    assert event["changes"] == ["customer.name"]


@pytest.mark.parametrize(
    "customer",
    [
        {"external_id": ""},
        {"external_id": "c", "payment_method": "bitcoin"},
        {"external_id": "c", "extra": 1},
        {},
    ],
)
def test_invalid_events_are_refused_with_every_problem(customer):
    event = build_event(
        stored(), connector="stripe", event_type="customer.updated", customer=customer, changes=[]
    )
    with pytest.raises(InvalidInput) as caught:
        validate_event(event)
    assert caught.value.details


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        ({}, True),
        ({"occurred_at": "2026-12-04T01:00:00.123456Z"}, True),
        ({"occurred_at": "2026-12-04T01:00:00+01:00"}, True),
        ({"occurred_at": "2026-12-04T01:00:00+0100"}, False),  # not RFC 3339: jsonschema's own test
        ({"occurred_at": "2026-12-04 01:00:00Z"}, False),
        ({"occurred_at": "yesterday"}, False),
        ({"connector": "hubspot"}, False),
        ({"type": "invoice.paid"}, False),
        ({"changes": ["customer.name", 3]}, False),
        ({"customer": {"external_id": "c", "custom_fields": {"tier": ["gold"]}}}, False),
        ({"customer": {"external_id": "c", "custom_fields": {"tier": None, "seats": 3}}}, True),
        ({"raw_ref": 5}, False),
        ({"unknown": 1}, False),
    ],
)
def test_the_compiled_check_agrees_with_jsonschema(change, valid):
    """validate_event answers from the compiled check; jsonschema is the contract's own reading."""
    event = {**build_event(stored(), connector="stripe", event_type="customer.updated",
                           customer={"external_id": "c"}, changes=[]), **change}
    fast, full = _event_validators(None)
    assert list(full.iter_errors(event)) is not valid
    try:
        fast(event)
        accepted = True
    except JsonSchemaValueException:
        accepted = False
    assert accepted is valid


def test_default_acknowledge_and_refuse():
    connector = EchoConnector(Connection("stripe", "stripe", {}))
    ack = connector.acknowledge([])
    assert (ack.status, json.loads(ack.body), ack.content_type) == (200, {"received": 0}, "application/json")
    refused = connector.refuse(SignatureVerificationError("forged", http_status=401))
    assert refused.status == 401
    assert json.loads(refused.body) == {"error": {"code": "signature_invalid", "message": "forged"}}
    assert connector.refuse(NotFound("x")).status == 404


def test_request_headers_are_case_insensitive():
    request = WebhookRequest(b"", {"Stripe-Signature": "t=1"}, datetime.now(UTC))
    assert request.header("stripe-signature") == "t=1"
    assert request.header("missing") is None


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("webhook_secret", True),
        ("api_key", True),
        ("webhook_password", True),
        ("refresh_token", True),
        ("verifier_token", True),
        ("session_id", True),
        ("private_key_file", True),
        ("consumer_key", True),
        ("realm_id", False),
        ("site", False),
        ("match_field", False),
        ("webhook_username", False),
    ],
)
def test_secret_fields(key, secret):
    assert is_secret_field(key) is secret


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T16:15:30.000Z", datetime(2026, 11, 20, 16, 15, 30, tzinfo=UTC)),
        ("2026-11-20T16:15:30Z", datetime(2026, 11, 20, 16, 15, 30, tzinfo=UTC)),
        ("2026-11-20T16:15:30.179851517Z", datetime(2026, 11, 20, 16, 15, 30, 179851, tzinfo=UTC)),
        ("2026-11-20T08:15:30-08:00", datetime(2026, 11, 20, 16, 15, 30, tzinfo=UTC)),
        ("2026-11-20T16:15:30.000+0000", datetime(2026, 11, 20, 16, 15, 30, tzinfo=UTC)),
        ("2026-11-20 16:15:30", datetime(2026, 11, 20, 16, 15, 30, tzinfo=UTC)),
    ],
)
def test_parse_timestamp(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2026-11-20", 1795340123])
def test_parse_timestamp_rejects_garbage(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_format_timestamp_is_utc_with_z():
    paris = timezone(timedelta(hours=1))
    assert format_timestamp(datetime(2026, 1, 1, 13, 0, tzinfo=paris)) == "2026-01-01T12:00:00Z"
    assert format_timestamp(datetime(2026, 1, 1, 12, 0)) == "2026-01-01T12:00:00Z"


def test_millis_keep_their_precision():
    assert from_unix_millis(1795340123456).microsecond == 456000


def test_constant_time_equals():
    assert constant_time_equals("abc", b"abc")
    assert not constant_time_equals("abc", "abd")
    assert not constant_time_equals(None, "abc")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Basic " + base64.b64encode(b"user:pa:ss").decode(), ("user", "pa:ss")),
        ("basic " + base64.b64encode(b"u:").decode(), ("u", "")),
        ("Basic " + base64.b64encode(b"nocolon").decode(), None),
        ("Bearer abc", None),
        ("Basic %%%", None),
        ("Basic " + base64.b64encode(b"\xff:\xfe").decode(), None),
        (None, None),
    ],
)
def test_basic_auth_credentials(header, expected):
    assert basic_auth_credentials(header) == expected


def test_parse_json_body():
    assert parse_json_body(b'{"a": 1}', "X") == {"a": 1}
    with pytest.raises(MalformedBody):
        parse_json_body(b"\xff", "X")


def test_retry_after_forms():
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Fri, 20 Nov 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Fri, 20 Nov 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert retry_after_from({"retry-after": "5"}) == 5.0
    assert retry_after_from(None) is None


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (None, VendorUnavailable),
        (500, VendorUnavailable),
        (502, VendorUnavailable),
        (408, VendorUnavailable),
        (429, VendorUnavailable),
        (401, ConfigError),
        (403, ConfigError),
        (404, InvalidInput),
        (400, InvalidInput),
        (422, InvalidInput),
    ],
)
def test_error_for_status(status, error):
    result = error_for_status("Vendor", status, retry_after=3)
    assert type(result) is error
    if error is VendorUnavailable:
        assert result.retry_after == 3 and result.retryable


def test_require_setting():
    assert require_setting({"a": "x"}, "a", "c", "do it") == "x"
    with pytest.raises(ConfigError, match="connection 'c' needs b to do it"):
        require_setting({"b": ""}, "b", "c", "do it")


def test_ttl_cache_expires_and_evicts():
    now = [0.0]
    cache: TTLCache[str] = TTLCache(ttl=10, maxsize=2, clock=lambda: now[0])
    cache.set("a", "1")
    cache.set("b", "2")
    assert cache.get("a") == "1"
    cache.set("c", "3")  # evicts the least recently used: b
    assert "b" not in cache and cache.get("c") == "3"
    now[0] = 10.0
    assert cache.get("a") is None
    cache.clear()
    assert cache.get("c") is None
