"""A staging set-up with real processes: gunicorn, a Celery prefork worker, Redis, PostgreSQL, and
the vendors' APIs as plain-http stand-ins on loopback ports.

QuickBooks is configured through HUB_QUICKBOOKS_API_BASE (discovery read from the same host),
Salesforce is misconfigured on purpose. Stripe keeps working, /healthz names Salesforce, the
worker's processes refresh the QuickBooks token one at a time, and a restarted worker presents
the token Intuit rotated to, never the seed again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
import requests
from sqlalchemy import func, select

from hub.db.models import InboxEvent
from tests.e2e.conftest import created_event, signed
from tests.e2e.stack import wait_until
from tests.integration import standins

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("postgres_only")]
REALM = "9341455012345678"
SEED = "AB11seed-token-e2e"
VERIFIER = "qbo-verifier-e2e"


def status_count(hub, status: str) -> int:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        return uow.session.scalar(select(func.count(InboxEvent.id)).where(InboxEvent.status == status))


def settled(hub, expected: int) -> bool:  # type: ignore[no-untyped-def]
    return status_count(hub, "processed") + status_count(hub, "failed") >= expected


def failures(hub) -> list[str | None]:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        return list(uow.session.scalars(select(InboxEvent.error).where(InboxEvent.status != "processed")))


def post_quickbooks(url: str, fixture: str) -> int:
    body = (standins.FIXTURES / "quickbooks" / fixture).read_bytes()
    signature = base64.b64encode(hmac.new(VERIFIER.encode(), body, hashlib.sha256).digest()).decode()
    return requests.post(f"{url}/webhooks/quickbooks", data=body, timeout=10,
                         headers={"intuit-signature": signature, "Content-Type": "application/json"}).status_code


def test_staging_stand_ins_broken_salesforce_and_a_restarted_worker(stack_factory, redis_server):  # type: ignore[no-untyped-def]
    tokens = standins.IntuitTokens(current=SEED)
    with standins.serving(standins.quickbooks(REALM, tokens, "/.well-known/openid_configuration")) as api:
        stack = stack_factory(
            f"redis://127.0.0.1:{redis_server.port}/6",
            HUB_SECRET_KEY="e2e-secret-key", HUB_QUICKBOOKS_VERIFIER_TOKEN=VERIFIER,
            HUB_QUICKBOOKS_REALM_ID=REALM, HUB_QUICKBOOKS_CLIENT_ID="ABclient",
            HUB_QUICKBOOKS_CLIENT_SECRET="qbo-secret", HUB_QUICKBOOKS_REFRESH_TOKEN=SEED,
            HUB_QUICKBOOKS_API_BASE=f"{api.base}/v3",
            HUB_SALESFORCE_ORGANIZATION_ID="not-an-org", HUB_SALESFORCE_SESSION_ID="00D!broken",
        )
        url = stack.web(workers=2)
        health = requests.get(f"{url}/healthz", timeout=5).json()
        assert health["status"] == "degraded"
        assert health["connections"] == {"quickbooks": "ok", "salesforce": "invalid", "stripe": "ok"}

        body, headers = signed(created_event(1))
        assert requests.post(f"{url}/webhooks/stripe", data=body, headers=headers, timeout=10).status_code == 200
        broken = requests.post(f"{url}/webhooks/salesforce", data=b"<x/>", timeout=10)
        assert broken.status_code == 503 and broken.json()["error"]["code"] == "connection_unavailable"
        assert post_quickbooks(url, "legacy_customer_update_and_create.json") == 200

        worker = stack.worker(concurrency=2, beat=False)
        hub = stack.hub
        wait_until(lambda: settled(hub, 3), 90, every=0.5, what="3 events processed")
        assert failures(hub) == []
        worker.stop()  # a restart: the next worker's processes know nothing but the database

        assert post_quickbooks(url, "cloudevents_customer_update_and_create.json") == 200
        stack.worker(concurrency=2, beat=False)
        wait_until(lambda: settled(hub, 5), 90, every=0.5, what="5 events processed")

    assert failures(hub) == [], tokens.presented
    assert tokens.refused == 0  # no process ever presented a token Intuit had already replaced
    assert tokens.presented[0] == SEED and tokens.presented.count(SEED) == 1
    assert len(tokens.presented) >= 2  # the restarted worker refreshed with the rotated token
