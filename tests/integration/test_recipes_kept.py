"""The last good recipe set really is kept: a process started after the folder broke runs the set
the database marks current, and /healthz and /metrics say the folder is refused (issue 12).

A "fresh process" is a second hub built with build_hub on the same database: it shares nothing
in memory with the hub that loaded the good set.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
import stripe
from sqlalchemy import select, update

from hub.app import create_app
from hub.bootstrap import build_hub
from hub.db.models import Customer, RecipeRun, RecipeVersion
from hub.services.demo import load_demo
from hub.services.processing.process import process_event
from tests.conftest import last_dispatched

SECRET = "whsec_recipes_kept_test"
TRIGGER = "trigger:\n  connector: stripe\n  events: [customer.created]\n"
CARD = "name: card\norder: 1\n" + TRIGGER + "steps:\n  - assign_workflow: Card payers\n"
TAG = "name: tag\norder: 2\n" + TRIGGER + "steps:\n  - set_custom_field: {key: tagged, value: \"yes\"}\n"
BROKEN = "name: broken\nbogus_key: 1\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "kept-recipes"
    folder.mkdir()
    (folder / "card.yaml").write_text(CARD)
    (folder / "tag.yaml").write_text(TAG)
    return folder


@pytest.fixture
def settings(settings, folder):  # type: ignore[no-untyped-def]
    return settings.with_overrides({"env": {"HUB_STRIPE_WEBHOOK_SECRET": SECRET},
                                    "recipes_dir": str(folder)})


@pytest.fixture
def demo(hub):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        load_demo(uow.session)
        uow.commit()
    return hub


@pytest.fixture
def fresh(settings, queue):  # type: ignore[no-untyped-def]
    """Build a new process's hub on the same database, when the test says so."""
    built = []

    def build():  # type: ignore[no-untyped-def]
        built.append(build_hub(settings, queue=queue))
        return built[-1]

    yield build
    for hub in built:
        hub.db.dispose()


def stored_good_set_then_broken(demo, folder: Path) -> None:  # type: ignore[no-untyped-def]
    loaded = demo.recipes.current()
    assert not loaded.refused and [r.name for r in loaded.recipes] == ["card", "tag"]
    (folder / "broken.yaml").write_text(BROKEN)


def post_created(client, event_id: str, customer: str) -> int:  # type: ignore[no-untyped-def]
    """A signed customer.created whose payment method is already expanded (no API call)."""
    obj = {"id": customer, "object": "customer", "name": customer, "email": None, "currency": "usd",
           "metadata": {}, "default_source": None,
           "invoice_settings": {"default_payment_method": {"id": f"pm_{event_id}", "type": "card"}}}
    body = json.dumps({"id": event_id, "object": "event", "type": "customer.created",
                       "created": 1795340000, "api_version": "2026-10-28.endive",
                       "livemode": False, "data": {"object": obj}})
    at = int(time.time())
    sig = stripe.WebhookSignature._compute_signature(f"{at}.{body}", SECRET)
    r = client.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": f"t={at},v1={sig}"})
    assert r.status_code == 200, r.data
    return last_dispatched(client.application.extensions["hub"])


def customer_and_runs(hub, external_id: str, inbox_id: int):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        customer = uow.session.scalars(select(Customer).where(
            Customer.external_id == external_id)).unique().one()
        runs = uow.session.scalars(select(RecipeRun).where(RecipeRun.inbox_event_id == inbox_id)
                                   .order_by(RecipeRun.id)).all()
        return ((customer.workflow_id, dict(customer.custom_fields)),
                [(r.recipe_name, r.recipe_version, r.status) for r in runs])


def test_a_fresh_process_facing_a_broken_folder_runs_the_stored_set(client, demo, folder, fresh):  # type: ignore[no-untyped-def]
    stored_good_set_then_broken(demo, folder)
    worker = fresh()
    loaded = worker.recipes.current()
    assert loaded.refused and loaded.versions == {"card": 1, "tag": 1}
    assert [(r.name, r.file) for r in loaded.recipes] == [
        ("card", str(folder / "card.yaml")), ("tag", str(folder / "tag.yaml"))]
    assert any(p.file.endswith("broken.yaml") for p in loaded.problems)
    inbox_id = post_created(client, "evt_kept", "cus_kept")
    assert process_event(worker, inbox_id).status == "processed"
    state, runs = customer_and_runs(worker, "cus_kept", inbox_id)
    assert state == ("wf_card", {"tagged": "yes"})
    assert runs == [("card", 1, "succeeded"), ("tag", 1, "succeeded")]


def test_a_stored_recipe_that_no_longer_loads_is_dropped_the_others_run(client, demo, folder, fresh, caplog):  # type: ignore[no-untyped-def]
    stored_good_set_then_broken(demo, folder)
    with demo.uow() as uow:  # as a recipe written for an older hub, which this one refuses
        uow.session.execute(update(RecipeVersion).where(RecipeVersion.name == "tag")
                            .values(content=TAG + "retired_option: 1\n"))
        uow.commit()
    worker = fresh()
    with caplog.at_level(logging.ERROR, logger="hub.services.recipes.store"):
        loaded = worker.recipes.current()
    assert [r.name for r in loaded.recipes] == ["card"] and loaded.versions == {"card": 1}
    assert any("stored recipe tag v1 no longer loads" in m for m in caplog.messages)
    inbox_id = post_created(client, "evt_dropped", "cus_dropped")
    assert process_event(worker, inbox_id).status == "processed"
    state, runs = customer_and_runs(worker, "cus_dropped", inbox_id)
    assert state == ("wf_card", {})
    assert runs == [("card", 1, "succeeded")]


def test_a_hub_that_never_loaded_a_good_set_still_fails_the_event(client, demo, folder, fresh):  # type: ignore[no-untyped-def]
    (folder / "broken.yaml").write_text(BROKEN)
    worker = fresh()
    inbox_id = post_created(client, "evt_never", "cus_never")
    assert process_event(worker, inbox_id).status == "failed"
    with worker.uow() as uow:
        (run,) = uow.session.scalars(select(RecipeRun).where(RecipeRun.inbox_event_id == inbox_id))
        assert run.recipe_name is None and run.error_class == "config"
        assert run.message.startswith("recipes_refused: the recipes folder was refused")


def test_healthz_says_the_folder_is_refused_with_a_200(client, demo, folder, fresh):  # type: ignore[no-untyped-def]
    assert client.get("/healthz").json["recipes"] == "ok"
    stored_good_set_then_broken(demo, folder)
    response = create_app(hub=fresh()).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "degraded" and response.json["recipes"] == "refused"


def test_metrics_show_the_refused_folder_and_the_recipes_still_running(client, demo, folder, fresh):  # type: ignore[no-untyped-def]
    good = client.get("/metrics").get_data(as_text=True)
    assert "hub_recipes_refused 0.0" in good and "hub_recipes_loaded 2.0" in good
    stored_good_set_then_broken(demo, folder)
    text = create_app(hub=fresh()).test_client().get("/metrics").get_data(as_text=True)
    assert "hub_recipes_refused 1.0" in text and "hub_recipes_loaded 2.0" in text
