"""Processing an inbox event end to end, without Celery: connector → recipes → assignment → runs."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import responses
import stripe
from sqlalchemy import func, select

from hub.db.models import AssignmentHistory, Customer, RecipeRun
from hub.services.demo import load_demo
from hub.services.processing import replay
from hub.services.processing.process import process_event
from hub.web.presenters.runs import replay_dict
from tests.conftest import last_dispatched

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_processing_test"
STRIPE_API = "https://api.stripe.com"


def replay_run(hub, run_id, **options):  # type: ignore[no-untyped-def]
    """A replay as the API answers it (POST /runs/{id}/replay): the service returns rows."""
    return replay_dict(replay.replay_run(hub, run_id, **options))


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.with_overrides({
        "env": {"HUB_STRIPE_WEBHOOK_SECRET": SECRET, "HUB_STRIPE_API_KEY": "sk_test_x"},
        "recipes_dir": str(ROOT / "recipes"), "retry_base_seconds": 0.01,
    })


@pytest.fixture
def demo(hub):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        load_demo(uow.session)
        uow.commit()
    return hub


def pm_event(event_id: str, customer: str, method: str, created: int) -> dict:
    """A customer.created whose default payment method is already expanded (no API call)."""
    obj = {"id": customer, "object": "customer", "name": f"{customer} Inc", "email": None,
           "currency": "usd", "metadata": {}, "default_source": None,
           "invoice_settings": {"default_payment_method": {"id": f"pm_{event_id}", "type": method}}}
    return {"id": event_id, "object": "event", "type": "customer.created", "created": created,
            "api_version": "2026-10-28.endive", "livemode": False, "data": {"object": obj}}


def post(client, event: dict) -> int:  # type: ignore[no-untyped-def]
    body = json.dumps(event).encode()
    at = int(time.time())
    sig = stripe.WebhookSignature._compute_signature(f"{at}.{body.decode()}", SECRET)
    r = client.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": f"t={at},v1={sig}"})
    assert r.status_code == 200, r.data
    return last_dispatched(client.application.extensions["hub"])


def customer_state(hub, external_id):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        c = uow.session.scalars(select(Customer).where(Customer.external_id == external_id)).unique().one()
        return c.workflow_id, c.payment_method


def history_count(hub) -> int:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        return uow.session.scalar(select(func.count(AssignmentHistory.id)))


def test_card_payer_gets_the_card_workflow_and_the_run_shows_the_branch(client, demo, admin):  # type: ignore[no-untyped-def]
    inbox_id = post(client, pm_event("evt_1", "cus_new", "card", 1795340000))
    result = process_event(demo, inbox_id)
    assert result.status == "processed"
    assert customer_state(demo, "cus_new") == ("wf_card", "card")
    runs = client.get("/api/v1/runs?customer=cus_new", headers=admin).json["runs"]
    stripe_run = next(r for r in runs if r["recipe"]["name"] == "stripe-payment-method-to-workflow")
    assert stripe_run["status"] == "succeeded" and stripe_run["recipe"]["version"] == 1
    detail = client.get(f"/api/v1/runs/{stripe_run['id']}", headers=admin).json
    assert any(t.get("kind") == "branch" for t in detail["trace"])
    assert detail["updates"][0]["outcome"] == "applied"
    event = client.get(f"/api/v1/events/{inbox_id}", headers=admin).json
    assert event["status"] == "processed"
    assert event["normalised"][0]["customer"]["payment_method"] == "card"


def test_processing_twice_changes_nothing_and_adds_no_history(client, demo):  # type: ignore[no-untyped-def]
    inbox_id = post(client, pm_event("evt_2", "cus_twice", "card", 1795340000))
    process_event(demo, inbox_id)
    before = history_count(demo)
    assert process_event(demo, inbox_id).status == "already"
    assert history_count(demo) == before


def test_out_of_order_events_newest_wins(client, demo):  # type: ignore[no-untyped-def]
    newer = post(client, pm_event("evt_new", "cus_ooo", "sepa_debit", 1795340100))
    older = post(client, pm_event("evt_old", "cus_ooo", "card", 1795340000))
    process_event(demo, newer)
    process_event(demo, older)
    assert customer_state(demo, "cus_ooo") == ("wf_direct_debit", "sepa_debit")
    with demo.uow() as uow:
        statuses = [r.status for r in uow.session.scalars(
            select(RecipeRun).where(RecipeRun.recipe_name == "stripe-payment-method-to-workflow")
            .order_by(RecipeRun.id))]
    assert statuses == ["succeeded", "skipped"]  # the older one was stale


def sample_updated() -> dict:
    return json.loads((ROOT / "tests" / "samples" / "stripe_customer_updated.json").read_text())


def customer_with_card(customer_id: str) -> dict:
    return {"id": customer_id, "object": "customer", "email": "billing@acme-logistics.example",
            "currency": "usd", "name": "Acme Logistics LLC", "metadata": {}, "default_source": None,
            "invoice_settings": {"default_payment_method": {"id": "pm_1", "object": "payment_method",
                                                            "type": "card", "card": {}}}}


@responses.activate
def test_vendor_500_is_retried_then_succeeds(client, demo):  # type: ignore[no-untyped-def]
    url = f"{STRIPE_API}/v1/customers/cus_TbQ8mJ2kP4xY7a"
    responses.get(url, status=500, json={"error": {"message": "boom", "type": "api_error"}})
    inbox_id = post(client, sample_updated())
    assert process_event(demo, inbox_id).status == "retrying"
    with demo.uow() as uow:
        run = uow.session.scalars(select(RecipeRun)).one()
        assert (run.status, run.error_class, run.attempts) == ("retrying", "retryable", 1)
        assert run.next_attempt_at is not None
    responses.replace(responses.GET, url, json=customer_with_card("cus_TbQ8mJ2kP4xY7a"))
    result = process_event(demo, inbox_id)
    assert result.status == "processed"
    assert customer_state(demo, "cus_TbQ8mJ2kP4xY7a")[0] == "wf_card"


@responses.activate
def test_vendor_401_fails_as_config_and_replay_after_fix_succeeds(client, demo, admin):  # type: ignore[no-untyped-def]
    url = f"{STRIPE_API}/v1/customers/cus_TbQ8mJ2kP4xY7a"
    responses.get(url, status=401, json={"error": {"message": "Invalid API Key", "type": "invalid_request_error"}})
    inbox_id = post(client, sample_updated())
    assert process_event(demo, inbox_id).status == "failed"
    failed = client.get("/api/v1/runs?status=failed&error_class=config", headers=admin).json["runs"]
    assert len(failed) == 1 and "sk_test_x" not in json.dumps(failed)
    responses.replace(responses.GET, url, json=customer_with_card("cus_TbQ8mJ2kP4xY7a"))
    r = client.post(f"/api/v1/runs/{failed[0]['id']}/replay", json={}, headers=admin)
    assert r.status_code == 200, r.json
    assert {run["replayOf"] for run in r.json["runs"]} == {failed[0]["id"]}
    assert customer_state(demo, "cus_TbQ8mJ2kP4xY7a")[0] == "wf_card"


def test_unknown_workflow_fails_as_config_then_replay_succeeds(client, demo, admin):  # type: ignore[no-untyped-def]
    from hub.db.models import Workflow

    with demo.uow() as uow:  # rename the workflow the recipe names
        uow.session.get(Workflow, "wf_card").name = "Cards (old)"
        uow.commit()
    inbox_id = post(client, pm_event("evt_cfg", "cus_cfg", "card", 1795340000))
    process_event(demo, inbox_id)
    runs = client.get("/api/v1/runs?status=failed&recipe=stripe-payment-method-to-workflow",
                      headers=admin).json["runs"]
    assert runs and runs[0]["errorClass"] == "config" and "Card payers" in runs[0]["message"]
    dry = client.post(f"/api/v1/runs/{runs[0]['id']}/replay", json={"dry_run": True}, headers=admin).json
    assert dry["runs"][0]["status"] == "failed"
    with demo.uow() as uow:
        uow.session.get(Workflow, "wf_card").name = "Card payers"
        uow.commit()
    dry = client.post(f"/api/v1/runs/{runs[0]['id']}/replay", json={"dry_run": True}, headers=admin).json
    assert dry["runs"][0]["updates"][0]["outcome"] == "applied"
    assert customer_state(demo, "cus_cfg")[0] is None  # a dry run writes nothing
    done = client.post(f"/api/v1/runs/{runs[0]['id']}/replay", json={}, headers=admin).json
    assert done["runs"][0]["status"] == "succeeded"
    assert customer_state(demo, "cus_cfg")[0] == "wf_card"
    again = replay_run(demo, runs[0]["id"])
    assert again["runs"][0]["updates"][0]["outcome"] == "unchanged"


def test_bulk_replay_job_runs_with_progress(client, demo, admin):  # type: ignore[no-untyped-def]
    from hub.services.processing.replay import run_replay_job

    for n in range(3):
        process_event(demo, post(client, pm_event(f"evt_b{n}", f"cus_b{n}", "card", 1795340000)))
    r = client.post("/api/v1/runs/replay", headers=admin, json={
        "filter": {"recipe": "stripe-payment-method-to-workflow"}, "rate_per_second": 1000})
    assert r.status_code == 202
    job_id = r.json["id"]
    assert ("hub.run_replay_job", (job_id,)) in demo.queue.sent
    assert run_replay_job(demo, job_id) == "done"
    job = client.get(f"/api/v1/runs/replay/{job_id}", headers=admin).json
    assert (job["status"], job["total"], job["processed"], job["succeeded"]) == ("done", 3, 3, 3)


def test_two_events_of_one_new_customer_processed_at_once(client, demo, is_postgres):  # type: ignore[no-untyped-def]
    if not is_postgres:
        pytest.skip("concurrent writers need PostgreSQL")
    import threading

    first = post(client, pm_event("evt_race_1", "cus_race", "card", 1795340000))
    second = post(client, pm_event("evt_race_2", "cus_race", "sepa_debit", 1795340060))
    demo.recipes.current()  # load recipes first, or that lock alone would serialise the threads
    barrier = threading.Barrier(2)
    results = {}

    def work(inbox_id: int) -> None:
        barrier.wait()
        results[inbox_id] = process_event(demo, inbox_id).status

    threads = [threading.Thread(target=work, args=(i,)) for i in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {first: "processed", second: "processed"}
    assert customer_state(demo, "cus_race") == ("wf_direct_debit", "sepa_debit")  # the newer one


def test_refused_recipe_folder_fails_events_as_config_instead_of_dropping_them(client, demo, tmp_path, admin):  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken-recipes"
    broken.mkdir()
    (broken / "bad.yaml").write_text("name: bad\nbogus: 1\n")
    demo.settings = demo.settings.with_overrides({"recipes_dir": str(broken)})
    inbox_id = post(client, pm_event("evt_refused", "cus_refused", "card", 1795340000))
    assert process_event(demo, inbox_id).status == "failed"
    runs = client.get("/api/v1/runs?status=failed&error_class=config", headers=admin).json["runs"]
    assert len(runs) == 1 and "recipes folder was refused" in runs[0]["message"]


@responses.activate
def test_vendor_429_retry_after_sets_the_next_attempt(client, demo):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    responses.get(f"{STRIPE_API}/v1/customers/cus_TbQ8mJ2kP4xY7a", status=429,
                  headers={"Retry-After": "120"},
                  json={"error": {"message": "Too many requests", "type": "rate_limit_error"}})
    inbox_id = post(client, sample_updated())
    assert process_event(demo, inbox_id).status == "retrying"
    with demo.uow() as uow:
        run = uow.session.scalars(select(RecipeRun)).one()
        assert run.next_attempt_at >= datetime.now(UTC) + timedelta(seconds=115)
