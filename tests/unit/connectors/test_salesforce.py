"""Salesforce connector: hardened SOAP, org check, Ack/fault replies, owner lookup, polling, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses
from defusedxml.ElementTree import fromstring

from connectors._salesforce_soap import OUTBOUND, SOAP_ENV
from connectors.salesforce import same_org
from hub.errors import (
    ConfigError,
    InvalidInput,
    MalformedBody,
    SignatureVerificationError,
    VendorUnavailable,
)

SAMPLE = "outbound_two_accounts.xml"
QUERY_URL = "https://acme.my.salesforce.com/services/data/v59.0/query/"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>&lol4;</OrganizationId>
</notifications></soapenv:Body></soapenv:Envelope>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>&xxe;</OrganizationId>
</notifications></soapenv:Body></soapenv:Envelope>"""

PLAIN_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE soapenv:Envelope SYSTEM "http://attacker.example/x.dtd">
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body/></soapenv:Envelope>"""


def envelope(count: int) -> bytes:
    notification = (
        "<Notification><Id>04l5e00000AbC{n:03d}AA1</Id>"
        '<sObject xsi:type="sf:Account" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        "<sf:Id>0015e00000Q{n:03d}AAZ</sf:Id><sf:OwnerId>0055e000007LmNoAAK</sf:OwnerId>"
        "</sObject></Notification>"
    )
    items = "".join(notification.format(n=n) for n in range(count))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>00D5e000000AbCdEAK</OrganizationId><ActionId>04k5e000000XyZ1AAK</ActionId>{items}"
        "</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


def test_sample_parses_into_account_records(kit, salesforce_kit):
    first, second = salesforce_kit.connector().parse(salesforce_kit.signed(kit.body("salesforce", SAMPLE)))
    assert first.vendor_event_id == "04l5e00000AbCdEAA1"
    assert first.event_type == "outbound_message.Account" and first.handled
    assert first.payload == {
        "attributes": {"type": "Account"},
        "Id": "0015e00000QrStUAAZ",
        "LastModifiedById": "0055e000004HiJkAAK",
        "LastModifiedDate": "2026-11-20T16:15:30.000Z",
        "Name": "Acme Logistics LLC",
        "OwnerId": "0055e000007LmNoAAK",
    }
    assert first.occurred_at == datetime(2026, 11, 20, 16, 15, 30, tzinfo=UTC)
    assert second.payload["OwnerId"] == "0055e000007LmNpAAK"


def test_sample_normalises_with_owner_emails_and_fetched_accounts(kit, salesforce_kit):
    with salesforce_kit.fake_api():
        acme, globex = kit.normalise_all(
            salesforce_kit.connector(), salesforce_kit.signed(kit.body("salesforce", SAMPLE))
        )
    assert acme["type"] == "customer.owner.changed"
    assert acme["changes"] == ["customer.owner_email"]
    assert acme["customer"] == {
        "external_id": "cus_TbQ8mJ2kP4xY7a",
        "owner_email": "jordan.lee@acme-sales.example",
        "name": "Acme Logistics LLC",
    }
    assert globex["customer"]["owner_email"] == "priya.nair@acme-sales.example"
    assert globex["customer"]["external_id"] == "cus_TbQ4jF8gL0tU3e"


def test_match_field_in_message_avoids_account_fetch(kit, salesforce_kit):
    with salesforce_kit.fake_api() as api:
        (event,) = kit.normalise_all(
            salesforce_kit.connector(),
            salesforce_kit.signed(kit.body("salesforce", "outbound_single_with_match_field.xml")),
        )
        paths = [urlparse(c.request.url).path for c in api.calls]
    assert event["customer"]["external_id"] == "cus_TbQ5kG9hM1uV4d"
    assert not any("/sobjects/Account/" in p for p in paths)


def test_owner_emails_are_cached_per_connector(kit, salesforce_kit):
    connector = salesforce_kit.connector()
    body = kit.body("salesforce", "outbound_single_with_match_field.xml")
    with salesforce_kit.fake_api() as api:
        kit.normalise_all(connector, salesforce_kit.signed(body))
        kit.normalise_all(connector, salesforce_kit.signed(body))
        user_queries = [
            c for c in api.calls if "FROM User" in parse_qs(urlparse(c.request.url).query)["q"][0]
        ]
    assert len(user_queries) == 1


def test_owner_lookup_uses_one_quoted_in_query(kit, salesforce_kit):
    connector = salesforce_kit.connector()
    with salesforce_kit.fake_api() as api:
        emails = connector.owner_emails(["0055e000007LmNoAAK", "0055e000007LmNpAAK"])
        (call,) = api.calls
        soql = parse_qs(urlparse(call.request.url).query)["q"][0]
    assert soql == "SELECT Id, Email FROM User WHERE Id IN ('0055e000007LmNoAAK','0055e000007LmNpAAK')"
    assert emails["0055e000007LmNpAAK"] == "priya.nair@acme-sales.example"


def test_unknown_owner_is_invalid_input(kit, salesforce_kit):
    with salesforce_kit.fake_api(), pytest.raises(InvalidInput, match="0055e0000000000AAA"):
        salesforce_kit.connector().owner_emails(["0055e0000000000AAA"])


def test_account_without_billing_id_gives_no_event(kit, salesforce_kit):
    body = kit.body("salesforce", "outbound_account_without_billing_id.xml")
    with salesforce_kit.fake_api():
        assert kit.normalise_all(salesforce_kit.connector(), salesforce_kit.signed(body)) == []


def test_contact_messages_are_ignored(kit, salesforce_kit):
    (note,) = salesforce_kit.connector().parse(
        salesforce_kit.signed(kit.body("salesforce", "outbound_contact_unhandled.xml"))
    )
    assert note.handled is False and note.event_type == "outbound_message.Contact"


def test_session_id_is_never_stored(kit, salesforce_kit):
    notes = salesforce_kit.connector().parse(
        salesforce_kit.signed(kit.body("salesforce", "outbound_single_with_match_field.xml"))
    )
    assert "FakeSessionToken" not in json.dumps([n.payload for n in notes])


def test_acknowledge_is_the_exact_ack_envelope(kit, salesforce_kit):
    reply = salesforce_kit.connector().acknowledge([])
    assert reply.body == (kit.fixtures / "salesforce" / "replies" / "notifications_ack.xml").read_bytes()
    assert reply.status == 200 and reply.content_type.startswith("text/xml")


def test_wrong_org_is_refused_with_a_soap_fault(kit, salesforce_kit):
    connector = salesforce_kit.connector(organization_id="00D000000000001AAA")
    with pytest.raises(SignatureVerificationError) as caught:
        connector.verify(salesforce_kit.signed(kit.body("salesforce", SAMPLE)))
    reply = connector.refuse(caught.value)
    assert reply.status == 401 and reply.content_type.startswith("text/xml")
    fault = fromstring(reply.body).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault.findtext("faultcode") == "soapenv:Client"
    assert "org" in fault.findtext("faultstring")


def test_retryable_refusal_is_a_server_fault(salesforce_kit):
    reply = salesforce_kit.connector().refuse(VendorUnavailable("database <down> & out"))
    fault = fromstring(reply.body).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault.findtext("faultcode") == "soapenv:Server"
    assert fault.findtext("faultstring") == "database <down> & out"


def test_fifteen_character_org_id_matches(kit, salesforce_kit):
    connector = salesforce_kit.connector(organization_id="00D5e000000AbCd")
    connector.verify(salesforce_kit.signed(kit.body("salesforce", SAMPLE)))


@pytest.mark.parametrize(
    ("given", "configured", "expected"),
    [
        ("00D5e000000AbCdEAK", "00D5e000000AbCdEAK", True),
        ("00D5e000000AbCdEAK", "00D5e000000AbCd", True),
        ("00D5e000000abcdEAK", "00D5e000000AbCdEAK", False),  # 15-char ids are case-sensitive
        (None, "00D5e000000AbCdEAK", False),
        ("00D5e", "00D5e000000AbCdEAK", False),
    ],
)
def test_same_org(given, configured, expected):
    assert same_org(given, configured) is expected


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, PLAIN_DTD], ids=["laughs", "xxe", "dtd"])
def test_hostile_xml_is_refused(kit, salesforce_kit, body):
    connector = salesforce_kit.connector()
    request = salesforce_kit.signed(body)
    with pytest.raises(MalformedBody):
        connector.verify(request)
    with pytest.raises(MalformedBody):
        connector.parse(request)
    assert connector.refuse(MalformedBody("x")).status == 400


@pytest.mark.parametrize(
    "body",
    [
        b"<not-closed>",
        b"<root/>",
        f'<e:Envelope xmlns:e="{SOAP_ENV}"><e:Body/></e:Envelope>'.encode(),
        f'<e:Envelope xmlns:e="{SOAP_ENV}"><e:Body><notifications xmlns="{OUTBOUND}">'
        "<Notification><Id>04l</Id></Notification></notifications></e:Body></e:Envelope>".encode(),
    ],
)
def test_non_outbound_messages_are_malformed(kit, salesforce_kit, body):
    with pytest.raises(MalformedBody):
        salesforce_kit.connector().parse(kit.webhook(body))


def test_more_than_100_notifications_are_refused(kit, salesforce_kit):
    connector = salesforce_kit.connector()
    assert len(connector.parse(kit.webhook(envelope(100)))) == 100
    with pytest.raises(MalformedBody, match="101"):
        connector.parse(kit.webhook(envelope(101)))


def test_missing_match_field_config_is_config_error(kit, salesforce_kit):
    connector = salesforce_kit.connector(match_field=None)
    with salesforce_kit.fake_api(), pytest.raises(ConfigError, match="match_field"):
        kit.normalise_all(connector, salesforce_kit.signed(kit.body("salesforce", SAMPLE)))


def test_missing_api_credentials_is_config_error(kit, salesforce_kit):
    connector = salesforce_kit.connector(session_id=None)
    with pytest.raises(ConfigError, match="credentials"):
        kit.normalise_all(connector, salesforce_kit.signed(kit.body("salesforce", SAMPLE)))


def test_api_base_overrides_instance_url(kit, salesforce_kit):
    connector = salesforce_kit.connector(api_base="https://sf-fake.example:8443", instance_url=None)
    with responses.RequestsMock() as api:
        api.get(
            "https://sf-fake.example:8443/services/data/v59.0/query/",
            json={
                "totalSize": 1,
                "done": True,
                "records": [{"Id": "0055e000007LmNoAAK", "Email": "a@b.example"}],
            },
        )
        assert connector.owner_emails(["0055e000007LmNoAAK"]) == {"0055e000007LmNoAAK": "a@b.example"}


def poll_record(account_id: str, stamp: str, owner_email: str) -> dict:
    return {
        "attributes": {"type": "Account", "url": f"/services/data/v59.0/sobjects/Account/{account_id}"},
        "Id": account_id,
        "Name": "Acme Logistics LLC",
        "OwnerId": "0055e000007LmNoAAK",
        "Owner": {"attributes": {"type": "User"}, "Email": owner_email},
        "SystemModstamp": stamp,
        "Billing_Id__c": "cus_TbQ8mJ2kP4xY7a",
    }


def test_poll_returns_notifications_and_next_cursor(kit, salesforce_kit):
    records = [
        poll_record("0015e00000QrStUAAZ", "2026-11-20T16:15:30.000+0000", "jordan.lee@acme-sales.example"),
        poll_record("0015e00000QrStVAAZ", "2026-11-20T16:20:00.000+0000", "priya.nair@acme-sales.example"),
    ]
    connector = salesforce_kit.connector()
    since = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    with salesforce_kit.fake_api(poll_records=records) as api:
        notes, cursor = connector.poll(since)
        soql = parse_qs(urlparse(api.calls[0].request.url).query)["q"][0]
        events = [connector.normalise(kit.stored(n, "salesforce", i)) for i, n in enumerate(notes)]
        assert len(api.calls) == 1  # polled records carry Owner.Email: no user lookup
    assert soql == (
        "SELECT Id, Name, OwnerId, Owner.Email, SystemModstamp, Billing_Id__c FROM Account "
        "WHERE SystemModstamp >= 2026-11-20T16:00:00+00:00 ORDER BY SystemModstamp LIMIT 2000"
    )
    assert [n.vendor_event_id for n in notes] == [
        "poll:0015e00000QrStUAAZ:2026-11-20T16:15:30.000+0000",
        "poll:0015e00000QrStVAAZ:2026-11-20T16:20:00.000+0000",
    ]
    assert cursor == datetime(2026, 11, 20, 16, 20, tzinfo=UTC)
    assert [e[0]["customer"]["owner_email"] for e in events] == [
        "jordan.lee@acme-sales.example",
        "priya.nair@acme-sales.example",
    ]


def test_poll_with_nothing_new_keeps_the_cursor(kit, salesforce_kit):
    since = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    with salesforce_kit.fake_api(poll_records=[]):
        assert salesforce_kit.connector().poll(since) == ([], since)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "down"}], VendorUnavailable),
        (500, [{"errorCode": "UNKNOWN_EXCEPTION", "message": "boom"}], VendorUnavailable),
        (403, [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "limit"}], VendorUnavailable),
        (403, [{"errorCode": "INSUFFICIENT_ACCESS", "message": "no"}], ConfigError),
        (401, [{"errorCode": "INVALID_SESSION_ID", "message": "expired"}], ConfigError),
        (400, [{"errorCode": "INVALID_FIELD", "message": "No such column 'Billing_Id__c'"}], ConfigError),
    ],
)
def test_vendor_errors_are_mapped(kit, salesforce_kit, status, body, error):
    with responses.RequestsMock() as api:
        api.get(QUERY_URL, status=status, json=body)
        with pytest.raises(error) as caught:
            salesforce_kit.connector().owner_emails(["0055e000007LmNoAAK"])
    assert "sessionForTests" not in caught.value.message


def test_connection_failure_is_retryable(salesforce_kit):
    with responses.RequestsMock() as api:
        api.get(QUERY_URL, body=requests.ConnectionError("reset"))
        with pytest.raises(VendorUnavailable):
            salesforce_kit.connector().owner_emails(["0055e000007LmNoAAK"])


def test_jwt_login_is_used_without_session(kit, salesforce_kit, tmp_path):
    pytest.importorskip("cryptography")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "server.key"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    connector = salesforce_kit.connector(
        session_id=None,
        username="integration@acme.example",
        consumer_key="3MVG9fakeConsumerKey",
        private_key_file=str(key_file),
        domain="login",
    )
    with responses.RequestsMock() as api:
        api.post(
            "https://login.salesforce.com/services/oauth2/token",
            json={"access_token": "00Djwt!token", "instance_url": "https://acme.my.salesforce.com"},
        )
        api.get(
            QUERY_URL,
            json={
                "totalSize": 0,
                "done": True,
                "records": [{"Id": "0055e000007LmNoAAK", "Email": "j@x.example"}],
            },
        )
        assert connector.owner_emails(["0055e000007LmNoAAK"]) == {"0055e000007LmNoAAK": "j@x.example"}
        assert api.calls[1].request.headers["Authorization"] == "Bearer 00Djwt!token"


def test_unreadable_private_key_is_config_error(salesforce_kit, tmp_path):
    connector = salesforce_kit.connector(
        session_id=None,
        username="u@x.example",
        consumer_key="3MVG9",
        private_key_file=str(tmp_path / "missing.key"),
    )
    with pytest.raises(ConfigError, match="private key"):
        connector.owner_emails(["0055e000007LmNoAAK"])


def test_naive_poll_cursor_is_taken_as_utc(kit, salesforce_kit):
    with salesforce_kit.fake_api(poll_records=[]) as api:
        salesforce_kit.connector().poll(datetime(2026, 11, 20, 16, 0))
        soql = parse_qs(urlparse(api.calls[0].request.url).query)["q"][0]
    assert "SystemModstamp >= 2026-11-20T16:00:00+00:00" in soql
