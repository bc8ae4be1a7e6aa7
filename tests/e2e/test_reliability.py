"""Nothing lost, nothing applied twice: real gunicorn, real Celery workers, Redis, PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from hub.db.models import AssignmentHistory, Customer, InboxEvent, RecipeRun
from tests.e2e.conftest import created_event, post_all, signed
from tests.e2e.stack import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("postgres_only")]
STRIPE_RECIPE = "stripe-payment-method-to-workflow"
SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "stripe_customer_updated.json"


def scalar(hub, stmt):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        return uow.session.scalar(stmt)


def processed(hub) -> int:  # type: ignore[no-untyped-def]
    return scalar(hub, select(func.count(InboxEvent.id)).where(InboxEvent.status == "processed"))


def history(hub) -> int:  # type: ignore[no-untyped-def]
    """History written by recipe runs (the demo data has its own)."""
    return scalar(hub, select(func.count(AssignmentHistory.id)).where(AssignmentHistory.cause_type == "run"))


def stripe_runs(hub) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(runs of the Stripe recipe, distinct events among them): equal when nothing ran twice."""
    where = RecipeRun.recipe_name == STRIPE_RECIPE
    return (scalar(hub, select(func.count(RecipeRun.id)).where(where)),
            scalar(hub, select(func.count(func.distinct(RecipeRun.inbox_event_id))).where(where)))


def test_each_event_delivered_three_times_concurrently_is_applied_once(stack_factory, redis_server):  # type: ignore[no-untyped-def]
    stack = stack_factory(f"redis://127.0.0.1:{redis_server.port}/1")
    url = stack.web(workers=3)
    stack.worker(concurrency=2)
    events = [created_event(n) for n in range(1000)]
    statuses = post_all(url, events * 3, threads=24)
    assert set(statuses) == {200}
    hub = stack.hub
    assert scalar(hub, select(func.count(InboxEvent.id))) == 1000
    wait_until(lambda: processed(hub) == 1000, 180, every=1, what="1000 processed events")
    assert history(hub) == 1000  # one workflow assignment per customer, never two
    assert stripe_runs(hub) == (1000, 1000)


def test_two_dispatchers_and_two_workers_on_one_backlog_apply_each_event_once(stack_factory, redis_server):  # type: ignore[no-untyped-def]
    """Each worker runs a dispatcher thread: two of them claim from the same stored backlog (FOR
    UPDATE SKIP LOCKED) while webhooks keep arriving, and no event is applied twice."""
    stack = stack_factory(f"redis://127.0.0.1:{redis_server.port}/4")
    url = stack.web(workers=3)
    assert set(post_all(url, [created_event(n) for n in range(1500)], threads=24)) == {200}
    hub = stack.hub
    assert processed(hub) == 0  # no worker, so no dispatcher: the webhooks only stored
    stack.worker(concurrency=2)
    stack.worker(concurrency=2, beat=False)
    assert set(post_all(url, [created_event(n) for n in range(1500, 2000)], threads=24)) == {200}
    wait_until(lambda: processed(hub) == 2000, 240, every=1, what="all 2000 processed")
    assert history(hub) == 2000
    assert stripe_runs(hub) == (2000, 2000)


def test_worker_killed_mid_stream_and_restarted_processes_all_once(stack_factory, redis_server):  # type: ignore[no-untyped-def]
    stack = stack_factory(f"redis://127.0.0.1:{redis_server.port}/2")
    url = stack.web(workers=3)
    assert set(post_all(url, [created_event(n) for n in range(2000)], threads=24)) == {200}
    hub = stack.hub
    worker = stack.worker(concurrency=2)
    wait_until(lambda: processed(hub) >= 300, 120, every=0.2, what="a first part processed")
    worker.kill()  # SIGKILL to the whole process group: main process and its children
    killed_at = processed(hub)
    assert killed_at < 2000, "the worker finished before it could be killed"
    stack.worker(concurrency=2)
    wait_until(lambda: processed(hub) == 2000, 240, every=1, what="all 2000 processed")
    assert history(hub) == 2000
    assert stripe_runs(hub) == (2000, 2000)


def test_broker_down_webhooks_still_acknowledged_then_processed(stack_factory, broker_proxy):  # type: ignore[no-untyped-def]
    stack = stack_factory(f"redis://127.0.0.1:{broker_proxy.port}/3")
    url = stack.web(workers=2)
    stack.worker(concurrency=2)
    broker_proxy.cut()
    statuses = post_all(url, [created_event(n) for n in range(50)], threads=8)
    assert set(statuses) == {200}
    hub = stack.hub
    assert scalar(hub, select(func.count(InboxEvent.id)).where(InboxEvent.enqueued_at.is_(None))) == 50
    assert processed(hub) == 0
    broker_proxy.restore()
    wait_until(lambda: processed(hub) == 50, 120, every=1, what="processing after the broker returns")
    assert history(hub) == 50


def test_database_down_answers_503_writes_nothing_and_resumes(stack_factory, redis_server, db_proxy, database_url):  # type: ignore[no-untyped-def]
    proxied = make_url(database_url).set(host="127.0.0.1", port=db_proxy.port)
    stack = stack_factory(f"redis://127.0.0.1:{redis_server.port}/4",
                          database=proxied.render_as_string(hide_password=False))
    url = stack.web(workers=2)
    stack.worker(concurrency=2)
    hub = stack.hub
    assert set(post_all(url, [created_event(n) for n in range(10)])) == {200}
    wait_until(lambda: processed(hub) == 10, 60, what="first batch")
    db_proxy.cut()
    statuses = post_all(url, [created_event(n) for n in range(10, 30)], threads=4)
    assert set(statuses) == {503}
    health = requests.get(f"{url}/healthz", timeout=10)
    assert health.status_code == 503 and health.json()["database"].startswith("down")
    db_proxy.restore()
    assert scalar(hub, select(func.count(InboxEvent.id))) == 10  # nothing half-written
    assert set(post_all(url, [created_event(n) for n in range(10, 30)], threads=4)) == {200}
    wait_until(lambda: processed(hub) == 30, 90, every=1, what="processing after the database returns")
    assert history(hub) == 30


def customer_with_card(customer_id: str) -> dict:
    return {"id": customer_id, "object": "customer", "email": "billing@acme-logistics.example",
            "currency": "usd", "name": "Acme Logistics LLC", "metadata": {}, "default_source": None,
            "invoice_settings": {"default_payment_method": {"id": "pm_1", "object": "payment_method",
                                                            "type": "card", "card": {}}}}


def workflow_of(hub, external_id: str):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        c = uow.session.scalars(select(Customer).where(Customer.external_id == external_id)).unique().first()
        return c.workflow_id if c else None


def test_vendor_errors_retry_fail_as_config_and_replay(stack_factory, redis_server, fake_stripe):  # type: ignore[no-untyped-def]
    stack = stack_factory(f"redis://127.0.0.1:{redis_server.port}/5", HUB_STRIPE_API_BASE=fake_stripe.url)
    url = stack.web(workers=2)
    stack.worker(concurrency=2)
    hub, admin = stack.hub, {"Authorization": "Bearer e2e-admin"}
    customer = "cus_TbQ8mJ2kP4xY7a"
    route = f"/v1/customers/{customer}"
    fake_stripe.routes[route] = (500, {"error": {"message": "boom", "type": "api_error"}})
    body, headers = signed(json.loads(SAMPLE.read_text()))
    assert requests.post(f"{url}/webhooks/stripe", data=body, headers=headers, timeout=10).status_code == 200
    wait_until(lambda: len(fake_stripe.calls) >= 2, 60, what="a retry after the 500")
    fake_stripe.routes[route] = (200, customer_with_card(customer))
    wait_until(lambda: workflow_of(hub, customer) == "wf_card", 60, what="success after retry")

    event = json.loads(SAMPLE.read_text())
    event["id"] = "evt_401"
    fake_stripe.routes[route] = (401, {"error": {"message": "Invalid API Key", "type": "invalid_request_error"}})
    body, headers = signed(event)
    assert requests.post(f"{url}/webhooks/stripe", data=body, headers=headers, timeout=10).status_code == 200

    def failed_config() -> list:
        runs = requests.get(f"{url}/api/v1/runs?status=failed&error_class=config", headers=admin, timeout=10)
        return runs.json()["runs"]

    wait_until(lambda: bool(failed_config()), 60, what="a failed config run")
    fake_stripe.routes[route] = (200, customer_with_card(customer))
    replayed = requests.post(f"{url}/api/v1/runs/{failed_config()[0]['id']}/replay", json={},
                             headers=admin, timeout=30)
    assert replayed.status_code == 200 and replayed.json()["status"] == "processed"
    assert scalar(hub, select(func.count(InboxEvent.id)).where(InboxEvent.status == "processed")) == 2
