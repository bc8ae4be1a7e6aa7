"""Acme Billing: customers from HMAC-signed JSON webhooks, built on the hub's shared helpers."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from connectors._http import constant_time_equals, parse_json_body
from connectors._limits import check_identifier, unix_time
from connectors.base import Connector, Notification, StoredNotification, WebhookRequest
from hub.errors import MalformedBody, SignatureVerificationError

HANDLED = ("customer.created", "customer.updated")


class AcmeBillingConnector(Connector):
    name = "acmebilling"

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        return {"type": "object", "required": ["webhook_secret"], "additionalProperties": False,
                "properties": {"webhook_secret": {"type": "string", "minLength": 1}}}

    def verify(self, request: WebhookRequest) -> None:
        secret = str(self.config.get("webhook_secret", "")).encode()
        expected = hmac.new(secret, request.body, hashlib.sha256).hexdigest()
        if not secret or not constant_time_equals(request.header("x-acme-signature"), expected):
            raise SignatureVerificationError("Acme signature missing or wrong", http_status=401)

    def parse(self, request: WebhookRequest) -> list[Notification]:
        event = parse_json_body(request.body, "Acme")
        if not isinstance(event, dict) or not isinstance(event.get("customer"), dict):
            raise MalformedBody("Acme event needs a customer object")
        check_identifier(event["customer"].get("id"), "Acme", "customer id")
        occurred_at = unix_time(event.get("occurred_at"), "Acme", "event time")
        event_id, event_type = event.get("id"), event.get("type")  # read() checks both
        return [Notification(event_id, event_type, occurred_at, event, event_type in HANDLED)]

    def normalise(self, stored: StoredNotification) -> list[dict[str, Any]]:
        customer = stored.payload["customer"]
        fields = {"external_id": customer["id"], "name": customer.get("name"),
                  "email": customer.get("email")}
        return [self.event(stored, stored.event_type, fields, ["customer.name", "customer.email"])]

    def customer_ref(self, stored: StoredNotification) -> str | None:
        customer = stored.payload.get("customer")
        return customer.get("id") if isinstance(customer, dict) else None
