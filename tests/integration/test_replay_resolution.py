"""Failed runs a replay resolved (resolvedBy, left out of status=failed), and event-stage
failures that name their customer; without Celery, on the suite's database."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import responses
import stripe
from sqlalchemy import select

from hub.db.models import RecipeRun, Workflow
from hub.services.demo import load_demo
from hub.services.processing import replay
from hub.services.processing.process import process_event
from hub.services.processing.replay import run_replay_job
from hub.web.presenters.runs import replay_dict
from tests.conftest import last_dispatched

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_resolution_test"
RECIPE = "stripe-payment-method-to-workflow"
CUSTOMER = "cus_TbQ8mJ2kP4xY7a"  # the customer of tests/samples/stripe_customer_updated.json
CUSTOMER_URL = f"https://api.stripe.com/v1/customers/{CUSTOMER}"


def replay_run(hub, run_id, **options):  # type: ignore[no-untyped-def]
    """A replay as the API answers it (POST /runs/{id}/replay): the service returns rows."""
    return replay_dict(replay.replay_run(hub, run_id, **options))


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.with_overrides({
        "env": {"HUB_STRIPE_WEBHOOK_SECRET": SECRET, "HUB_STRIPE_API_KEY": "sk_test_x"},
        "recipes_dir": str(ROOT / "recipes"),
    })


@pytest.fixture
def demo(hub):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        load_demo(uow.session)
        uow.commit()
    return hub


def post(client, event: dict) -> int:  # type: ignore[no-untyped-def]
    body = json.dumps(event).encode()
    at = int(time.time())
    sig = stripe.WebhookSignature._compute_signature(f"{at}.{body.decode()}", SECRET)
    r = client.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": f"t={at},v1={sig}"})
    assert r.status_code == 200, r.data
    return last_dispatched(client.application.extensions["hub"])


def card_payer_created(event_id: str, customer: str) -> dict:
    obj = {"id": customer, "object": "customer", "name": f"{customer} Inc", "email": None,
           "currency": "usd", "metadata": {}, "default_source": None,
           "invoice_settings": {"default_payment_method": {"id": f"pm_{event_id}", "type": "card"}}}
    return {"id": event_id, "object": "event", "type": "customer.created", "created": 1795340000,
            "livemode": False, "data": {"object": obj}}


def rename_card_workflow(hub, name: str) -> None:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:  # the recipe names the workflow "Card payers"
        uow.session.get(Workflow, "wf_card").name = name
        uow.commit()


def failed_recipe_run(client, demo, customer: str = "cus_res") -> int:  # type: ignore[no-untyped-def]
    rename_card_workflow(demo, "Cards (old)")
    process_event(demo, post(client, card_payer_created(f"evt_{customer}", customer)))
    with demo.uow() as uow:
        return uow.session.scalars(select(RecipeRun.id).where(
            RecipeRun.recipe_name == RECIPE, RecipeRun.status == "failed")).one()


def run_of(client, admin, run_id: int) -> dict:  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/runs/{run_id}", headers=admin).json


def failed_ids(client, admin, query: str = "") -> set[int]:  # type: ignore[no-untyped-def]
    r = client.get(f"/api/v1/runs?status=failed{query}", headers=admin)
    assert r.status_code == 200, r.json
    return {run["id"] for run in r.json["runs"]}


def test_replay_that_runs_through_resolves_the_failed_run_and_its_failed_replays(client, demo, admin):  # type: ignore[no-untyped-def]
    original = failed_recipe_run(client, demo)
    retry = replay_run(demo, original)["runs"][0]  # the workflow is still missing
    assert retry["status"] == "failed" and retry["resolvedBy"] is None
    rename_card_workflow(demo, "Card payers")

    fixed = replay_run(demo, original)["runs"][0]

    assert fixed["status"] == "succeeded"
    assert run_of(client, admin, original)["resolvedBy"] == fixed["id"]
    assert run_of(client, admin, retry["id"])["resolvedBy"] == fixed["id"]  # the same failure
    assert run_of(client, admin, fixed["id"])["resolvedBy"] is None


def test_failed_runs_are_listed_without_the_resolved_ones_unless_asked(client, demo, admin):  # type: ignore[no-untyped-def]
    resolved = failed_recipe_run(client, demo)
    rename_card_workflow(demo, "Card payers")
    replay_run(demo, resolved)
    rename_card_workflow(demo, "Cards (old)")
    process_event(demo, post(client, card_payer_created("evt_open", "cus_open")))
    open_ = failed_ids(client, admin, "&resolved=any") - {resolved}

    assert len(open_) == 1
    assert failed_ids(client, admin) == open_
    assert failed_ids(client, admin, "&resolved=false") == open_
    assert failed_ids(client, admin, "&resolved=true") == {resolved}
    assert failed_ids(client, admin, "&resolved=any") == open_ | {resolved}
    everything = client.get("/api/v1/runs", headers=admin).json["runs"]
    assert resolved in {r["id"] for r in everything}  # only status=failed hides them by default


@pytest.mark.parametrize("value", ["yes", "TRUE", "", "1"])
def test_resolved_filter_refuses_other_values_naming_the_parameter(client, demo, admin, value):  # type: ignore[no-untyped-def]
    r = client.get(f"/api/v1/runs?status=failed&resolved={value}", headers=admin)
    assert r.status_code == 400
    assert "resolved" in r.json["error"]["message"]


def test_dry_run_and_failed_replays_resolve_nothing(client, demo, admin):  # type: ignore[no-untyped-def]
    original = failed_recipe_run(client, demo)
    replay_run(demo, original)  # fails again
    rename_card_workflow(demo, "Card payers")
    dry = replay_run(demo, original, dry_run=True)
    assert dry["runs"][0]["status"] == "succeeded"
    assert run_of(client, admin, original)["resolvedBy"] is None
    assert original in failed_ids(client, admin)


def test_cli_lists_failed_runs_without_the_resolved_ones(client, demo, runner):  # type: ignore[no-untyped-def]
    original = failed_recipe_run(client, demo)
    rename_card_workflow(demo, "Card payers")
    fixed = replay_run(demo, original)["runs"][0]["id"]

    hidden = runner.invoke(args=["runs", "list", "--status", "failed"])
    shown = runner.invoke(args=["runs", "list", "--status", "failed", "--resolved", "true"])

    assert hidden.exit_code == 0 and "0 of 0 run(s)" in hidden.output
    assert shown.exit_code == 0 and f"(resolved by run {fixed})" in shown.output


def test_bulk_replay_of_failed_runs_skips_the_resolved_ones(client, demo, admin):  # type: ignore[no-untyped-def]
    resolved = failed_recipe_run(client, demo)
    rename_card_workflow(demo, "Card payers")
    replay_run(demo, resolved)
    r = client.post("/api/v1/runs/replay", headers=admin,
                    json={"filter": {"status": "failed"}, "rate_per_second": 1000})
    assert r.status_code == 202
    assert run_replay_job(demo, r.json["id"]) == "done"
    assert client.get(f"/api/v1/runs/replay/{r.json['id']}", headers=admin).json["total"] == 0


@responses.activate
def test_event_stage_failure_names_the_customer_and_its_replay_resolves_it(client, demo, admin):  # type: ignore[no-untyped-def]
    responses.get(CUSTOMER_URL, status=401,
                  json={"error": {"message": "Invalid API Key", "type": "invalid_request_error"}})
    sample = json.loads((ROOT / "tests" / "samples" / "stripe_customer_updated.json").read_text())
    inbox_id = post(client, sample)
    assert process_event(demo, inbox_id).status == "failed"

    runs = client.get(f"/api/v1/runs?customer={CUSTOMER}", headers=admin).json["runs"]
    assert [(r["recipe"], r["status"], r["customerExternalId"]) for r in runs] == [
        (None, "failed", CUSTOMER)]
    events = client.get(f"/api/v1/events?customer={CUSTOMER}", headers=admin).json["events"]
    assert [e["id"] for e in events] == [inbox_id]

    responses.replace(responses.GET, CUSTOMER_URL, json={
        "id": CUSTOMER, "object": "customer", "email": None, "currency": "usd", "name": "Acme",
        "metadata": {}, "default_source": None,
        "invoice_settings": {"default_payment_method": {"id": "pm_1", "object": "payment_method",
                                                        "type": "card", "card": {}}}})
    replayed = replay_run(demo, runs[0]["id"])
    assert replayed["status"] == "processed"
    assert run_of(client, admin, runs[0]["id"])["resolvedBy"] == replayed["runs"][0]["id"]
    assert runs[0]["id"] not in failed_ids(client, admin)


def test_failure_after_normalising_names_the_customer_of_its_events(client, demo, tmp_path, admin):  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken-recipes"
    broken.mkdir()
    (broken / "bad.yaml").write_text("name: bad\nbogus: 1\n")
    demo.settings = demo.settings.with_overrides({"recipes_dir": str(broken)})
    inbox_id = post(client, card_payer_created("evt_refused", "cus_refused"))
    assert process_event(demo, inbox_id).status == "failed"
    runs = client.get("/api/v1/runs?customer=cus_refused", headers=admin).json["runs"]
    assert [(r["status"], r["errorClass"]) for r in runs] == [("failed", "config")]
