"""The shipped connectors' harnesses (sign, forge, fake API, hostile-payload kit): what the
standard suite (connectors.testing) and the per-vendor tests drive each connector with."""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import requests
import responses
import respx
import stripe

from connectors.base import Connection, WebhookRequest
from connectors.testing import Harness, rfc3339, unix_millis, unix_seconds, webhook

FIXTURES = Path(__file__).parent / "fixtures"


def load_json(*parts: str) -> Any:
    return json.loads(FIXTURES.joinpath(*parts).read_text(encoding="utf-8"))


class StripeHarness(Harness):
    name = "stripe"
    fixtures_dir = FIXTURES / "stripe"
    config = {
        "webhook_secret": "whsec_test_c0nnect0r_s3cret",
        "api_key": "sk_test_51FakeKeyForUnitTests",
        "api_base": "https://stripe.fake",
    }

    def sign(self, body: bytes, connection: Connection, timestamp: int | None = None) -> dict[str, str]:
        secret = connection.config["webhook_secret"]
        header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp)
        return {"Stripe-Signature": header, "Content-Type": "application/json"}

    def wrong_connection(self) -> Connection:
        return self.connection(webhook_secret="whsec_some_other_endpoint")

    hostile_fixtures = ("customer_updated_email_and_metadata.json", "payment_method_attached.json")
    raw_times = {
        "created_1e17": ("created", 10**17),
        "created_minus_1e17": ("created", -(10**17)),
    }

    def record(self, doc: Any) -> dict[str, Any]:
        return doc["data"]["object"]

    def with_event_id(self, doc: Any, value: str) -> Any:
        doc = copy.deepcopy(doc)
        doc["id"] = value
        return doc

    def with_customer_id(self, doc: Any, value: str) -> Any:
        """customer.* events are the customer (data.object.id); others name it (data.object.customer)."""
        doc = copy.deepcopy(doc)
        obj = doc["data"]["object"]
        if doc["type"] in ("customer.created", "customer.updated", "customer.deleted"):
            obj["id"] = value
        elif isinstance(obj.get("customer"), dict):
            obj["customer"]["id"] = value
        else:
            obj["customer"] = value
        return doc

    def with_time(self, doc: Any, moment: datetime) -> Any:
        return self.with_raw_time(doc, "created", unix_seconds(moment))

    def with_raw_time(self, doc: Any, field: str, value: Any) -> Any:
        doc = copy.deepcopy(doc)
        doc[field] = value
        return doc

    def forge(self, case: str, body: bytes) -> tuple[Connection, WebhookRequest]:
        if case == "stale_timestamp":
            connection = self.connection()
            return connection, webhook(body, self.sign(body, connection, int(time.time()) - 301))
        return super().forge(case, body)

    @contextlib.contextmanager
    def fake_api(self) -> Iterator[responses.RequestsMock]:
        customers = load_json("stripe", "api", "customers.json")

        def customer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
            customer_id = urlparse(request.url).path.rsplit("/", 1)[-1]
            if customer_id not in customers:
                error = {"error": {"code": "resource_missing", "type": "invalid_request_error"}}
                return 404, {}, json.dumps(error)
            return 200, {"Request-Id": "req_fake"}, json.dumps(customers[customer_id])

        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add_callback(
                responses.GET, re.compile(r"https://stripe\.fake/v1/customers/[^/?]+"), customer
            )
            yield mock


class ChargebeeHarness(Harness):
    name = "chargebee"
    fixtures_dir = FIXTURES / "chargebee"
    config = {
        "webhook_username": "hub-webhooks",
        "webhook_password": "cb-basic-pa55word",
        "site": "acme-test",
        "api_key": "test_cbLiveLookingKey123",
    }
    not_applicable = {
        "tampered_body": "HTTP Basic credentials do not cover the body; dedupe is the defence",
        "stale_timestamp": "Chargebee sends no timestamp to check",
    }

    def sign(self, body: bytes, connection: Connection) -> dict[str, str]:
        pair = f"{connection.config['webhook_username']}:{connection.config['webhook_password']}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    def wrong_connection(self) -> Connection:
        return self.connection(webhook_password="not-the-password")

    hostile_fixtures = ("customer_created_card.json", "payment_source_added_sepa.json")
    raw_times = {
        "occurred_at_1e17": ("occurred_at", 10**17),  # seconds: year 3 billion
        "resource_version_1e17": ("resource_version", 10**17),  # milliseconds: year 3 million
    }

    def record(self, doc: Any) -> dict[str, Any]:
        return doc["content"]["customer"]

    def with_event_id(self, doc: Any, value: str) -> Any:
        doc = copy.deepcopy(doc)
        doc["id"] = value
        return doc

    def with_customer_id(self, doc: Any, value: str) -> Any:
        doc = copy.deepcopy(doc)
        doc["content"]["customer"]["id"] = value
        return doc

    def with_time(self, doc: Any, moment: datetime) -> Any:
        doc = copy.deepcopy(doc)
        doc["occurred_at"] = unix_seconds(moment)
        doc["content"]["customer"]["resource_version"] = unix_millis(moment)
        return doc

    def with_raw_time(self, doc: Any, field: str, value: Any) -> Any:
        doc = copy.deepcopy(doc)
        customer = doc["content"]["customer"]
        if field == "resource_version":
            customer["resource_version"] = value
        else:
            # A customer's resource_version orders its changes; occurred_at is the event time
            # only without one.
            customer.pop("resource_version", None)
            doc[field] = value
        return doc

    @contextlib.contextmanager
    def fake_api(self) -> Iterator[respx.MockRouter]:
        sources = load_json("chargebee", "api", "payment_sources.json")

        def payment_source(request: httpx.Request, source_id: str) -> httpx.Response:
            if source_id not in sources:
                return httpx.Response(404, json=_chargebee_error(404, "resource_not_found"))
            return httpx.Response(200, json=sources[source_id])

        base = "https://acme-test.chargebee.com/api/v2"
        with respx.mock(base_url=base, assert_all_called=False) as router:
            router.get(path__regex=r"/payment_sources/(?P<source_id>[^/]+)$").mock(side_effect=payment_source)
            yield router


class QuickBooksHarness(Harness):
    name = "quickbooks"
    fixtures_dir = FIXTURES / "quickbooks"
    realm = "9341455012345678"
    config = {
        "verifier_token": "qbo-verifier-token-abc123",
        "realm_id": realm,
        "client_id": "ABfakeClientId",
        "client_secret": "qbo-client-secret",
        "refresh_token": "AB11refresh-token-1",
        "environment": "production",
        "api_base": "https://qbo.fake/v3",
    }
    not_applicable = {"stale_timestamp": "intuit-signature covers no timestamp"}
    # With an API base set, discovery is read from the same host at Intuit's path.
    discovery_url = "https://qbo.fake/.well-known/openid_configuration"
    token_url = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"

    def sign(self, body: bytes, connection: Connection) -> dict[str, str]:
        token = connection.config["verifier_token"].encode()
        signature = base64.b64encode(hmac.new(token, body, hashlib.sha256).digest()).decode()
        return {"intuit-signature": signature, "Content-Type": "application/json"}

    def wrong_connection(self) -> Connection:
        return self.connection(verifier_token="some-other-verifier")

    hostile_fixtures = (
        "legacy_customer_update_and_create.json",
        "cloudevents_customer_update_and_create.json",
    )

    def record(self, doc: Any) -> dict[str, Any]:
        """The first CloudEvents element, or the first legacy entity (the payload is realmId + it)."""
        if isinstance(doc, list):
            return doc[0]
        return doc["eventNotifications"][0]["dataChangeEvent"]["entities"][0]

    def with_event_id(self, doc: Any, value: str) -> Any:
        """CloudEvents carry an id. Legacy ids are composed (realm:name:id:operation:time): the
        entity id becomes the tail of ``value`` that makes the composed id exactly as long, so a
        301-character id overflows the event-id column with an entity id that fits its own."""
        doc = copy.deepcopy(doc)
        if isinstance(doc, list):
            self.record(doc)["id"] = value
            return doc
        composed = self.connector().parse(self.signed(self.encode(doc)))[0].vendor_event_id
        frame = len(composed) - len(str(self.record(doc)["id"]))
        self.record(doc)["id"] = value[frame:] if len(value) > frame else value
        return doc

    def with_customer_id(self, doc: Any, value: str) -> Any:
        doc = copy.deepcopy(doc)
        self.record(doc)["intuitentityid" if isinstance(doc, list) else "id"] = value
        return doc

    def with_time(self, doc: Any, moment: datetime) -> Any:
        return self.with_raw_time(doc, "time" if isinstance(doc, list) else "lastUpdated", rfc3339(moment))

    def with_raw_time(self, doc: Any, field: str, value: Any) -> Any:
        doc = copy.deepcopy(doc)
        self.record(doc)[field] = value
        return doc

    @contextlib.contextmanager
    def fake_api(self) -> Iterator[responses.RequestsMock]:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            self.add_oauth(mock)
            for entity, file in (
                ("customer", "customers.json"),
                ("paymentmethod", "payment_methods.json"),
                ("term", "terms.json"),
            ):
                self.add_entities(mock, entity, load_json("quickbooks", "api", file))
            yield mock

    def add_oauth(self, mock: responses.RequestsMock, refresh_token: str = "AB11refresh-token-2") -> None:
        mock.add(responses.GET, self.discovery_url, json=load_json("quickbooks", "api", "discovery.json"))
        tokens = {
            "token_type": "bearer",
            "access_token": "eyJfake.access.token",
            "refresh_token": refresh_token,
            "expires_in": 3600,
            "x_refresh_token_expires_in": 8726400,
        }
        mock.add(responses.POST, self.token_url, json=tokens)

    def add_entities(self, mock: responses.RequestsMock, entity: str, data: dict[str, Any]) -> None:
        def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
            entity_id = urlparse(request.url).path.rsplit("/", 1)[-1]
            if entity_id in data:
                return 200, {}, json.dumps(data[entity_id])
            fault = {"Error": [{"Message": "Object Not Found", "Detail": "Object Not Found", "code": "610"}]}
            return 400, {}, json.dumps({"Fault": {**fault, "type": "ValidationFault"}})

        url = re.compile(rf"https://qbo\.fake/v3/company/{self.realm}/{entity}/\d+")
        mock.add_callback(responses.GET, url, answer)


class SalesforceHarness(Harness):
    name = "salesforce"
    fixtures_dir = FIXTURES / "salesforce"
    suffix = ".xml"
    instance = "https://acme.my.salesforce.com"
    config = {
        "organization_id": "00D5e000000AbCdEAK",
        "match_field": "Billing_Id__c",
        "instance_url": instance,
        "session_id": "00D5e000000AbCd!AQ0AQsessionForTests",
    }
    not_applicable = {"stale_timestamp": "outbound messages carry no timestamp to check"}

    def sign(self, body: bytes, connection: Connection) -> dict[str, str]:
        # No signature: the OrganizationId in the body is what identifies the sender.
        return {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}

    def wrong_connection(self) -> Connection:
        return self.connection(organization_id="00D000000000001AAA")

    def forge(self, case: str, body: bytes) -> tuple[Connection, WebhookRequest]:
        connection = self.connection()
        org = b"<OrganizationId>00D5e000000AbCdEAK</OrganizationId>"
        if case == "tampered_body":
            forged = body.replace(org, b"<OrganizationId>00D000000000001AAA</OrganizationId>")
            return connection, self.signed(forged, connection)
        if case == "wrong_secret":
            return self.wrong_connection(), self.signed(body, connection)
        if case == "missing_credentials":
            return connection, self.signed(body.replace(org, b""), connection)
        raise ValueError(case)

    hostile_fixtures = ("outbound_single_with_match_field.xml", "outbound_partner_wsdl_nil_session.xml")
    refusal_content_type = "text/xml"
    refusal_marker = b"<soapenv:Fault>"
    credential_markers = (b"<SessionId>", b"<EnterpriseUrl>", b"<PartnerUrl>")
    _credential = re.compile(rb"<(?:[\w.-]+:)?(?:SessionId|EnterpriseUrl|PartnerUrl)\b[^>]*(?<!/)>([^<]+)</")

    def document(self, name: str) -> bytes:
        """Outbound messages are edited as the bytes Salesforce sends (only the first record)."""
        return (self.fixtures_dir / name).read_bytes()

    def encode(self, doc: bytes) -> bytes:
        return doc

    def with_raw(self, doc: bytes, raw: bytes) -> bytes:
        """``raw`` (XML) as one more field of the first sObject."""
        return doc.replace(b"</sObject>", raw + b"</sObject>", 1)

    def with_event_id(self, doc: bytes, value: str) -> bytes:
        # The Notification's own <Id> (unprefixed) comes before the record's <sf:Id>.
        changed, count = re.subn(rb"<Id>[^<]*</Id>", b"<Id>" + value.encode() + b"</Id>", doc, count=1)
        assert count == 1
        return changed

    def with_customer_id(self, doc: bytes, value: str) -> bytes:
        """The record Id of the (Account) sObject."""
        return self._in_sobject(doc, rb"<((?:[\w.-]+:)?Id)>[^<]*</\1>", rb"<\1>" + value.encode() + rb"</\1>")

    def with_time(self, doc: bytes, moment: datetime) -> bytes:
        stamp = rfc3339(moment).encode()
        pattern = rb"<((?:[\w.-]+:)?LastModifiedDate)>[^<]*</\1>"
        if re.search(pattern, doc):
            return self._in_sobject(doc, pattern, rb"<\1>" + stamp + rb"</\1>")
        return self.with_raw(doc, b"<LastModifiedDate>" + stamp + b"</LastModifiedDate>")

    def body_credentials(self, body: bytes) -> list[bytes]:
        return self._credential.findall(body)

    def without_credentials(self, body: bytes) -> bytes:
        tags = rb"(?:[\w.-]+:)?(?:SessionId|EnterpriseUrl|PartnerUrl)"
        bare, count = re.subn(rb"\s*<(%s)\b[^>]*?(?:/>|>[^<]*</\1>)" % tags, b"", body)
        assert count == 3, "an outbound message holds SessionId, EnterpriseUrl and PartnerUrl"
        return bare

    @staticmethod
    def _in_sobject(doc: bytes, pattern: bytes, replacement: bytes) -> bytes:
        head, marker, tail = doc.partition(b"<sObject")
        tail, count = re.subn(pattern, replacement, tail, count=1)
        assert marker and count == 1
        return head + marker + tail

    @contextlib.contextmanager
    def fake_api(self, poll_records: list[dict[str, Any]] | None = None) -> Iterator[responses.RequestsMock]:
        users = load_json("salesforce", "api", "users.json")
        accounts = load_json("salesforce", "api", "accounts.json")

        def query(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
            soql = parse_qs(urlparse(request.url).query)["q"][0]
            if "FROM User" in soql:
                wanted = set(re.findall(r"'(005\w+)'", soql))
                records = [u for u in users if u["Id"] in wanted]
            else:
                records = poll_records or []
            return 200, {}, json.dumps({"totalSize": len(records), "done": True, "records": records})

        def account(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
            account_id = urlparse(request.url).path.rsplit("/", 1)[-1]
            if account_id in accounts:
                return 200, {}, json.dumps(accounts[account_id])
            return 404, {}, json.dumps([{"errorCode": "NOT_FOUND", "message": "not found"}])

        base = f"{self.instance}/services/data/v59.0"
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add_callback(responses.GET, re.compile(rf"{re.escape(base)}/query/.*"), query)
            mock.add_callback(responses.GET, re.compile(rf"{re.escape(base)}/sobjects/Account/\w+"), account)
            yield mock


def _chargebee_error(status: int, code: str) -> dict[str, Any]:
    return {
        "message": f"fake error {code}",
        "type": "invalid_request",
        "api_error_code": code,
        "error_code": code,
        "http_status_code": status,
    }


HARNESSES: dict[str, Harness] = {
    h.name: h for h in (StripeHarness(), ChargebeeHarness(), QuickBooksHarness(), SalesforceHarness())
}
