"""customer_ref: the customer a stored notification is about, from its payload alone, for every
connector and fixture; it agrees with normalise and never raises on a payload it cannot read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.base import StoredNotification


def _refs_and_customers(harness, kit, path):  # type: ignore[no-untyped-def]
    connector = harness.connector()
    request = harness.signed(path.read_bytes())
    pairs = []
    with harness.fake_api():
        for inbox_id, note in enumerate(connector.parse(request), start=1):
            if not note.handled:
                continue
            stored = kit.stored(note, connector.connection.name, inbox_id)
            events = connector.normalise(stored)
            pairs.append((connector.customer_ref(stored),
                          events[0]["customer"]["external_id"] if events else None))
    return pairs


def test_customer_ref_names_the_customer_normalise_finds(harnesses, vendor_fixture, kit):
    vendor, path = vendor_fixture
    for ref, customer in _refs_and_customers(harnesses[vendor], kit, path):
        assert ref is None or ref == customer, path.name


def test_customer_ref_is_known_for_some_fixture_of_every_vendor(harnesses, vendor, kit):
    harness = harnesses[vendor]
    refs = [ref for path in harness.fixture_paths() for ref, _ in _refs_and_customers(harness, kit, path)]
    assert any(refs), f"{vendor} never names the customer of a stored notification"


@pytest.mark.parametrize("payload", [
    {}, {"data": []}, {"data": {"object": []}}, {"data": {"object": {"id": 42}}},
    {"content": "x"}, {"content": {"customer": "cus"}}, {"content": {"card": []}},
    {"Id": "001", "Billing_Id__c": {"nested": 1}}, {"Billing_Id__c": ""},
])
def test_customer_ref_is_none_when_the_payload_does_not_say(harnesses, vendor, payload):
    if vendor == "quickbooks":
        payload = {"realmId": "1", "name": "Customer", "operation": "Update"}  # read() checks the rest
    stored = StoredNotification(inbox_id=1, connection=vendor, vendor_event_id="evt_x",
                                event_type="customer.updated", occurred_at=None, payload=payload,
                                received_at=datetime.now(UTC))
    assert harnesses[vendor].connector().customer_ref(stored) is None
