"""Fixtures for end-to-end tests with real processes: PostgreSQL + a private Redis + workers."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
import stripe
from sqlalchemy.engine import make_url

from hub.services.demo import load_demo
from tests.e2e.stack import ROOT, FakeVendor, RedisServer, TcpProxy, start_web, start_worker

SECRET = "whsec_e2e_secret"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):  # type: ignore[no-untyped-def]
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def postgres_only(is_postgres):  # type: ignore[no-untyped-def]
    if not is_postgres:
        pytest.skip("end-to-end reliability runs on PostgreSQL and Redis (the CI PostgreSQL pass)")


@pytest.fixture
def fake_stripe():  # type: ignore[no-untyped-def]
    fake = FakeVendor()
    yield fake
    fake.stop()


@pytest.fixture
def db_proxy(database_url):  # type: ignore[no-untyped-def]
    proxy = TcpProxy(make_url(database_url).port or 5432)
    yield proxy
    proxy.cut()


@pytest.fixture
def broker_proxy(redis_server):  # type: ignore[no-untyped-def]
    proxy = TcpProxy(redis_server.port)
    yield proxy
    proxy.cut()


class Stack:
    """Environment and processes of one test; everything is stopped at the end."""

    def __init__(self, hub: Any, database_url: str, broker_url: str, log_dir: Any, extra: dict) -> None:
        self.hub, self.log_dir, self.processes = hub, log_dir, []
        self.env = {
            "PATH": str(ROOT / ".venv" / "bin") + ":/usr/bin:/bin",
            "HUB_DATABASE_URL": database_url, "HUB_BROKER_URL": broker_url,
            "HUB_RECIPES_DIR": str(ROOT / "recipes"), "HUB_ADMIN_API_KEY": "e2e-admin",
            "HUB_STRIPE_WEBHOOK_SECRET": SECRET, "HUB_STRIPE_API_KEY": "sk_test_e2e",
            "HUB_SWEEP_SECONDS": "1", "HUB_LOST_AFTER_SECONDS": "5", "HUB_RETRY_BASE_SECONDS": "0.2",
            "HUB_RETRY_MAX_SECONDS": "1", "HUB_LOG_LEVEL": "WARNING", **extra,
        }
        self.url = ""

    def web(self, workers: int = 2) -> str:
        process, self.url = start_web(self.env, self.log_dir, workers=workers)
        self.processes.append(process)
        return self.url

    def worker(self, concurrency: int = 2, beat: bool = True, **options: Any):  # type: ignore[no-untyped-def]
        process = start_worker(self.env, self.log_dir, concurrency=concurrency, beat=beat, **options)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


@pytest.fixture
def stack_factory(hub, database_url, tmp_path):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        load_demo(uow.session)
        uow.commit()
    stacks: list[Stack] = []

    def make(broker_url: str, database: str | None = None, **extra: str) -> Stack:
        stack = Stack(hub, database or database_url, broker_url, tmp_path, extra)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.stop()


def created_event(n: int, method: str = "card", created: int | None = None, customer: str | None = None) -> dict:
    customer = customer or f"cus_e2e_{n}"
    obj = {"id": customer, "object": "customer", "name": f"Customer {n}", "email": None,
           "currency": "usd", "metadata": {}, "default_source": None,
           "invoice_settings": {"default_payment_method": {"id": f"pm_{n}", "type": method}}}
    return {"id": f"evt_e2e_{n}", "object": "event", "type": "customer.created",
            "created": created or 1795340000 + n, "api_version": "2026-10-28.endive",
            "livemode": False, "data": {"object": obj}}


def signed(event: dict, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    at = int(time.time())
    sig = stripe.WebhookSignature._compute_signature(f"{at}.{body.decode()}", secret)
    return body, {"Stripe-Signature": f"t={at},v1={sig}", "Content-Type": "application/json"}


def post_all(url: str, events: list[dict], threads: int = 16) -> list[int]:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=threads, pool_maxsize=threads)
    session.mount("http://", adapter)

    def one(event: dict) -> int:
        body, headers = signed(event)
        return session.post(f"{url}/webhooks/stripe", data=body, headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, events))
