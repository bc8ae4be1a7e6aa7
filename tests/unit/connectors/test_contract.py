"""The contract every connector keeps, run over every registered connector and every fixture."""

from __future__ import annotations

import json

import pytest

from connectors import registry
from connectors.base import validate_event
from hub.errors import MalformedBody, SignatureVerificationError


def test_every_registered_connector_has_a_harness(harnesses):
    assert set(registry.available()) == set(harnesses)


def test_every_vendor_has_at_least_five_fixtures(harnesses, vendor):
    assert len(harnesses[vendor].fixture_paths()) >= 5


def test_good_signature_passes(harnesses, vendor_fixture):
    vendor, path = vendor_fixture
    harness = harnesses[vendor]
    harness.connector().verify(harness.signed(path.read_bytes()))


def test_forged_request_is_refused(harnesses, forgery):
    vendor, case = forgery
    harness = harnesses[vendor]
    if case in harness.not_applicable:
        pytest.skip(harness.not_applicable[case])
    if case == "stale_timestamp" and vendor != "stripe":
        pytest.fail(f"{vendor} must declare why {case} does not apply")
    body = harness.fixture_paths()[0].read_bytes()
    connection, request = harness.forge(case, body)
    connector = registry.create_connector(connection)
    with pytest.raises(SignatureVerificationError) as caught:
        connector.verify(request)
    assert connector.refuse(caught.value).status >= 400


def test_every_fixture_parses_and_normalises_into_valid_events(harnesses, vendor_fixture, kit):
    vendor, path = vendor_fixture
    harness = harnesses[vendor]
    connector = harness.connector()
    request = harness.signed(path.read_bytes())
    notifications = connector.parse(request)
    assert notifications, "every fixture holds at least one notification"
    with harness.fake_api():
        events = kit.normalise_all(connector, request)
    for note in notifications:
        assert isinstance(note.vendor_event_id, str) and note.vendor_event_id
        json.dumps(note.payload)  # the inbox stores it as JSON
    for event in events:
        validate_event(event)
        assert event["connection"] == connector.connection.name
        assert event["connector"] == vendor
    assert len({e["id"] for e in events}) == len(events)


def test_unusable_body_is_malformed(harnesses, vendor, kit):
    connector = harnesses[vendor].connector()
    with pytest.raises(MalformedBody):
        connector.parse(kit.webhook(b"\xff\xfe not json, not xml <"))


def test_acknowledge_is_2xx(harnesses, vendor):
    harness = harnesses[vendor]
    connector = harness.connector()
    notifications = connector.parse(harness.signed(harness.fixture_paths()[0].read_bytes()))
    reply = connector.acknowledge(notifications)
    assert 200 <= reply.status < 300
    assert reply.body and reply.content_type


def test_connection_repr_hides_secrets(harnesses, vendor):
    connection = harnesses[vendor].connection()
    shown = repr(connection)
    for key, value in connection.config.items():
        if any(word in key for word in ("secret", "password", "token", "key", "session")):
            assert str(value) not in shown
