"""Connector test kit: per-vendor harnesses (sign, forge, fake API) shared by the contract suite."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import requests
import responses
import respx
import stripe

from connectors import registry
from connectors.base import Connection, Notification, StoredNotification, WebhookRequest

FIXTURES = Path(__file__).parent / "fixtures"
FORGERY_CASES = ("tampered_body", "wrong_secret", "missing_credentials", "stale_timestamp")


def load_json(*parts: str) -> Any:
    return json.loads(FIXTURES.joinpath(*parts).read_text(encoding="utf-8"))


def webhook(body: bytes, headers: dict[str, str] | None = None) -> WebhookRequest:
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    return WebhookRequest(body=body, headers=lowered, received_at=datetime.now(UTC))


def stored(notification: Notification, connection: str, inbox_id: int = 1) -> StoredNotification:
    """Round-trip the payload through JSON, as the inbox does."""
    return StoredNotification(
        inbox_id=inbox_id,
        connection=connection,
        vendor_event_id=notification.vendor_event_id,
        event_type=notification.event_type,
        occurred_at=notification.occurred_at,
        payload=json.loads(json.dumps(notification.payload)),
        received_at=datetime.now(UTC),
    )


# --- harnesses -------------------------------------------------------------------------------


class Harness:
    """What the contract suite needs to drive one vendor: config, signing, forgeries, fake API."""

    name = ""
    suffix = ".json"
    config: dict[str, Any] = {}
    not_applicable: dict[str, str] = {}

    def connection(self, name: str | None = None, **overrides: Any) -> Connection:
        config = {k: v for k, v in {**self.config, **overrides}.items() if v is not None}
        return Connection(name or self.name, self.name, config)

    def connector(self, **overrides: Any) -> Any:
        return registry.create_connector(self.connection(**overrides))

    def fixture_paths(self) -> list[Path]:
        return sorted((FIXTURES / self.name).glob(f"*{self.suffix}"))

    def sign(self, body: bytes, connection: Connection) -> dict[str, str]:
        raise NotImplementedError

    def signed(self, body: bytes, connection: Connection | None = None) -> WebhookRequest:
        return webhook(body, self.sign(body, connection or self.connection()))

    def forge(self, case: str, body: bytes) -> tuple[Connection, WebhookRequest]:
        """A request that must be refused, and the connection that must refuse it."""
        connection = self.connection()
        if case == "tampered_body":
            return connection, webhook(body + b" ", self.sign(body, connection))
        if case == "wrong_secret":
            return connection, webhook(body, self.sign(body, self.wrong_connection()))
        if case == "missing_credentials":
            return connection, webhook(body, {"content-type": "application/json"})
        raise ValueError(case)

    def wrong_connection(self) -> Connection:
        raise NotImplementedError

    @contextlib.contextmanager
    def fake_api(self) -> Iterator[Any]:
        yield None


class StripeHarness(Harness):
    name = "stripe"
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


# --- pytest wiring ---------------------------------------------------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise the contract suite over every vendor, fixture and forgery."""
    if "vendor_fixture" in metafunc.fixturenames:
        params = [(h.name, path) for h in HARNESSES.values() for path in h.fixture_paths()]
        metafunc.parametrize("vendor_fixture", params, ids=[f"{v}/{p.name}" for v, p in params])
    if "forgery" in metafunc.fixturenames:
        cases = [(v, case) for v in HARNESSES for case in FORGERY_CASES]
        metafunc.parametrize("forgery", cases, ids=[f"{v}-{c}" for v, c in cases])
    if "vendor" in metafunc.fixturenames:
        metafunc.parametrize("vendor", sorted(HARNESSES))


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    registry.reset()
    yield
    registry.reset()


@pytest.fixture
def harnesses() -> dict[str, Harness]:
    return HARNESSES


@pytest.fixture
def stripe_kit() -> StripeHarness:
    return HARNESSES["stripe"]  # type: ignore[return-value]


@pytest.fixture
def chargebee_kit() -> ChargebeeHarness:
    return HARNESSES["chargebee"]  # type: ignore[return-value]


@pytest.fixture
def quickbooks_kit() -> QuickBooksHarness:
    return HARNESSES["quickbooks"]  # type: ignore[return-value]


@pytest.fixture
def salesforce_kit() -> SalesforceHarness:
    return HARNESSES["salesforce"]  # type: ignore[return-value]


class Kit:
    """Helpers handed to tests (test modules cannot import conftest under importlib mode)."""

    webhook = staticmethod(webhook)
    stored = staticmethod(stored)
    load_json = staticmethod(load_json)
    fixtures = FIXTURES

    @staticmethod
    def body(vendor: str, name: str) -> bytes:
        return (FIXTURES / vendor / name).read_bytes()

    @staticmethod
    def normalise_all(connector: Any, request: WebhookRequest) -> list[dict[str, Any]]:
        """verify → parse → normalise every handled notification, as web + worker would."""
        connector.verify(request)
        events: list[dict[str, Any]] = []
        for inbox_id, note in enumerate(connector.parse(request), start=1):
            if note.handled:
                events.extend(connector.normalise(stored(note, connector.connection.name, inbox_id)))
        return events


@pytest.fixture
def kit() -> type[Kit]:
    return Kit
