"""Chargebee connector: Basic-auth webhooks in, customer and payment-method events out."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import chargebee
import httpx

from connectors import _chargebee_mapping as mapping
from connectors._http import (
    basic_auth_credentials,
    constant_time_equals,
    error_for_status,
    parse_json_body,
    require_setting,
    retry_after_from,
    unreachable,
)
from connectors._limits import check_identifier, unix_time
from connectors.base import (
    Connection,
    Connector,
    Notification,
    StoredNotification,
    WebhookReply,
    WebhookRequest,
)
from hub.errors import (
    HubError,
    InvalidInput,
    MalformedBody,
    SignatureVerificationError,
    VendorUnavailable,
)

T = TypeVar("T")
# The SDK raises a plain Exception for non-JSON error pages; the status is only in the text.
_STATUS_IN_TEXT = re.compile(r"http_status_code:\s*(\d{3})")


class ChargebeeConnector(Connector):
    name = "chargebee"

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._client: chargebee.Chargebee | None = None

    # --- webhook side ---------------------------------------------------------------------

    def verify(self, request: WebhookRequest) -> None:
        purpose = "check Chargebee webhook credentials"
        username = require_setting(self.config, "webhook_username", self.connection.name, purpose)
        password = require_setting(self.config, "webhook_password", self.connection.name, purpose)
        given = basic_auth_credentials(request.header("authorization")) or ("", "")
        # Both comparisons always run, so timing does not tell which half was wrong.
        user_ok = constant_time_equals(given[0], username)
        password_ok = constant_time_equals(given[1], password)
        if not (user_ok and password_ok):
            raise SignatureVerificationError(
                "Chargebee webhook credentials missing or wrong", http_status=401
            )

    def refuse(self, error: HubError) -> WebhookReply:
        reply = super().refuse(error)
        if error.http_status != 401:
            return reply
        headers = {**reply.headers, "WWW-Authenticate": 'Basic realm="hub"'}
        return WebhookReply(reply.body, reply.status, reply.content_type, headers)

    def parse(self, request: WebhookRequest) -> list[Notification]:
        event = parse_json_body(request.body, "Chargebee")
        if not isinstance(event, dict):
            raise MalformedBody("Chargebee webhook body is not a JSON object")
        version = event.get("api_version")
        if version is not None and str(version).lower() != "v2":
            raise MalformedBody(f"Chargebee api_version {version!r} is not supported; use v2")
        event_id, event_type = event.get("id"), event.get("event_type")
        if not (isinstance(event_id, str) and event_id and isinstance(event_type, str)):
            raise MalformedBody("Chargebee event needs an id and an event_type")
        if not isinstance(event.get("content"), dict):
            raise MalformedBody("Chargebee event has no content object")
        handled = event_type.startswith(mapping.HANDLED_PREFIXES)
        customer = event["content"].get("customer")
        if handled and isinstance(customer, dict):
            check_identifier(customer.get("id"), "Chargebee", "customer id")
        return [Notification(event_id, event_type, _occurred_at(event), event, handled)]

    # --- worker side ----------------------------------------------------------------------

    def normalise(self, stored: StoredNotification) -> list[dict[str, Any]]:
        content = stored.payload.get("content") or {}
        raw = self._customer_of(content)
        kind = mapping.normalised_type(stored.event_type)
        customer = customer_fields(raw)
        if kind == "customer.deleted":
            return [self.event(stored, kind, customer, [])]
        customer["payment_method"] = self._payment_method_of(raw, content.get("payment_source"))
        if kind == "customer.payment_method.changed":
            return [self.event(stored, kind, customer, ["customer.payment_method"])]
        # Chargebee sends no diff: an update lists every field the hub reads.
        return [self.event(stored, kind, customer, _field_paths(customer))]

    def customer_ref(self, stored: StoredNotification) -> str | None:
        content = stored.payload.get("content")
        content = content if isinstance(content, dict) else {}
        customer = content.get("customer")
        if isinstance(customer, dict):
            ref = customer.get("id")
        else:  # a payment source or card event names its customer by id (as _customer_of reads it)
            source = content.get("payment_source") or content.get("card")
            ref = source.get("customer_id") if isinstance(source, dict) else None
        return ref if isinstance(ref, str) and ref else None

    def _customer_of(self, content: dict[str, Any]) -> dict[str, Any]:
        customer = content.get("customer")
        if isinstance(customer, dict):
            return customer
        source = content.get("payment_source") or content.get("card") or {}
        customer_id = source.get("customer_id")
        if not isinstance(customer_id, str):
            raise InvalidInput("Chargebee event carries no customer")
        client = self._chargebee()
        return self._call(lambda: client.Customer.retrieve(customer_id)).customer.raw_data

    def _payment_method_of(self, customer: dict[str, Any], payment_source: dict[str, Any] | None) -> str:
        if customer.get("auto_collection") == "off":
            return mapping.offline_method(customer.get("offline_payment_method"))
        method_type = (customer.get("payment_method") or {}).get("type")
        if method_type != mapping.DIRECT_DEBIT:
            return mapping.online_method(method_type)
        return mapping.scheme_method(self._scheme_of(customer, payment_source))

    def _scheme_of(self, customer: dict[str, Any], payment_source: dict[str, Any] | None) -> str | None:
        """The direct-debit scheme of the customer's primary source, from the event or the API."""
        primary = customer.get("primary_payment_source_id")
        if payment_source and payment_source.get("id") in (primary, None):
            scheme = mapping.scheme_of(payment_source)
            if scheme:
                return scheme
        if not primary:
            return None
        client = self._chargebee()
        fetched = self._call(lambda: client.PaymentSource.retrieve(primary))
        return mapping.scheme_of(fetched.payment_source.raw_data)

    # --- Chargebee API --------------------------------------------------------------------

    def _chargebee(self) -> chargebee.Chargebee:
        if self._client is None:
            purpose = "look up Chargebee payment sources"
            api_key = require_setting(self.config, "api_key", self.connection.name, purpose)
            site = require_setting(self.config, "site", self.connection.name, purpose)
            client = chargebee.Chargebee(api_key=api_key, site=site)
            if self.config.get("api_base"):
                use_api_base(client, str(self.config["api_base"]))
            self._client = client
        return self._client

    @staticmethod
    def _call(request: Callable[[], T]) -> T:
        try:
            return request()
        except chargebee.APIError as exc:
            raise error_for_status(
                "Chargebee",
                exc.http_code,
                retry_after=retry_after_from(exc.http_headers),
                detail=exc.api_error_code or "",
            ) from exc
        except httpx.HTTPError as exc:
            raise unreachable("Chargebee", exc) from exc
        except Exception as exc:
            if type(exc) is not Exception:
                raise  # a real bug, not the SDK's untyped error: let it surface
            raise _untyped_error(exc) from exc


def use_api_base(client: chargebee.Chargebee, api_base: str) -> None:
    """Point the SDK at ``api_base`` exactly: scheme, host, port and path.

    The SDK builds every URL from ``env.api_endpoint`` and rewrites its scheme to https while
    the *class* attribute ``Chargebee.verify_ca_certs`` is true (its own CA bundle). For a plain
    http base (a staging stand-in) both must change; https bases keep certificate checks, with
    the system's CAs once any connection in the process has used http.
    """
    scheme = urlsplit(api_base).scheme
    client.update_protocol(scheme)
    if scheme == "http":
        chargebee.Chargebee.verify_ca_certs = False
    client.env.api_endpoint = api_base.rstrip("/")


def customer_fields(customer: dict[str, Any]) -> dict[str, Any]:
    """Normalised customer fields from a Chargebee customer object."""
    customer_id = customer.get("id")
    if not isinstance(customer_id, str) or not customer_id:
        raise InvalidInput("Chargebee customer has no id")
    person = " ".join(p for p in (customer.get("first_name"), customer.get("last_name")) if p)
    currency = customer.get("preferred_currency_code")
    return {
        "external_id": customer_id,
        "name": customer.get("company") or person or None,
        "email": customer.get("email"),
        "currency": currency.lower() if isinstance(currency, str) else None,
        "custom_fields": mapping.custom_fields(customer),
    }


def _occurred_at(event: dict[str, Any]) -> datetime | None:
    """resource_version (ms) orders a customer's changes; occurred_at (s) otherwise."""
    customer = (event.get("content") or {}).get("customer") or {}
    version = customer.get("resource_version") if isinstance(customer, dict) else None
    if isinstance(version, int) and version > 0:
        return unix_time(version, "Chargebee", "resource_version", millis=True)
    return unix_time(event.get("occurred_at"), "Chargebee", "occurred_at")


def _field_paths(customer: dict[str, Any]) -> list[str]:
    paths = [f"customer.{k}" for k in ("name", "email", "currency", "payment_method")]
    return paths + [f"customer.custom_fields.{k}" for k in customer["custom_fields"]]


def _untyped_error(exc: Exception) -> HubError:
    match = _STATUS_IN_TEXT.search(str(exc))
    if match:
        return error_for_status("Chargebee", int(match.group(1)))
    return VendorUnavailable("Chargebee answered with an unexpected response")
