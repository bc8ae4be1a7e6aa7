"""How the standard suite (connectors.testing) drives the Acme Billing connector."""

from __future__ import annotations

import copy
import hashlib
import hmac
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.base import Connection
from connectors.testing import Harness, unix_seconds


class AcmeBillingHarness(Harness):
    name = "acmebilling"
    fixtures_dir = Path(__file__).parent / "fixtures"
    config = {"webhook_secret": "acme-test-secret"}
    not_applicable = {"stale_timestamp": "Acme signs no timestamp"}
    hostile_fixtures = ("customer_created.json", "customer_updated_email.json")
    raw_times = {"occurred_at_1e17": ("occurred_at", 10**17)}

    def sign(self, body: bytes, connection: Connection) -> dict[str, str]:
        secret = str(connection.config["webhook_secret"]).encode()
        signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
        return {"X-Acme-Signature": signature, "Content-Type": "application/json"}

    def wrong_connection(self) -> Connection:
        return self.connection(webhook_secret="another-endpoint-secret")

    def record(self, doc: Any) -> dict[str, Any]:
        return doc["customer"]

    def with_event_id(self, doc: Any, value: str) -> Any:
        doc = copy.deepcopy(doc)
        doc["id"] = value
        return doc

    def with_customer_id(self, doc: Any, value: str) -> Any:
        doc = copy.deepcopy(doc)
        doc["customer"]["id"] = value
        return doc

    def with_time(self, doc: Any, moment: datetime) -> Any:
        return self.with_raw_time(doc, "occurred_at", unix_seconds(moment))

    def with_raw_time(self, doc: Any, field: str, value: Any) -> Any:
        doc = copy.deepcopy(doc)
        doc[field] = value
        return doc
