"""`stop: all` in the worker path: a recipe that stops the chain leaves the later recipes without
a run and without a change, as evaluate_all promises (issue 12)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import stripe
from sqlalchemy import select

from hub.db.models import AssignmentHistory, Customer, RecipeRun
from hub.services.demo import load_demo
from hub.services.processing.process import process_event
from tests.conftest import last_dispatched

SECRET = "whsec_stop_all_test"
TRIGGER = "trigger:\n  connector: stripe\n  events: [customer.created]\n"
FIRST = ("name: first\norder: 1\n" + TRIGGER
         + "steps:\n  - assign_workflow: Card payers\n  - stop: all\n")
SECOND = ("name: second\norder: 2\n" + TRIGGER
          + "steps:\n  - set_custom_field: {key: reached, value: \"yes\"}\n")


@pytest.fixture
def settings(settings, tmp_path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "stop-all-recipes"
    folder.mkdir()
    (folder / "first.yaml").write_text(FIRST)
    (folder / "second.yaml").write_text(SECOND)
    return settings.with_overrides({"env": {"HUB_STRIPE_WEBHOOK_SECRET": SECRET},
                                    "recipes_dir": str(folder)})


@pytest.fixture
def demo(hub):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        load_demo(uow.session)
        uow.commit()
    return hub


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


def test_stop_all_leaves_the_later_recipe_without_a_run_or_a_change(client, demo):  # type: ignore[no-untyped-def]
    inbox_id = post_created(client, "evt_stop_all", "cus_stop_all")
    assert process_event(demo, inbox_id).status == "processed"
    with demo.uow() as uow:
        runs = uow.session.scalars(select(RecipeRun).where(RecipeRun.inbox_event_id == inbox_id)).all()
        assert [(r.recipe_name, r.status) for r in runs] == [("first", "succeeded")]
        assert "later recipes do not run" in runs[0].trace[-1]["message"]
        customer = uow.session.scalars(select(Customer).where(
            Customer.external_id == "cus_stop_all")).unique().one()
        assert customer.workflow_id == "wf_card" and "reached" not in customer.custom_fields
        fields = uow.session.scalars(select(AssignmentHistory.field).where(
            AssignmentHistory.customer_id == customer.id)).all()
        assert fields == ["workflow"]


def test_without_the_stop_the_later_recipe_runs(client, demo, settings):  # type: ignore[no-untyped-def]
    """The control: the same folder minus `stop: all` gives the second recipe its run."""
    (Path(settings.recipes_dir) / "first.yaml").write_text(FIRST.replace("  - stop: all\n", ""))
    inbox_id = post_created(client, "evt_no_stop", "cus_no_stop")
    assert process_event(demo, inbox_id).status == "processed"
    with demo.uow() as uow:
        runs = uow.session.scalars(select(RecipeRun).where(RecipeRun.inbox_event_id == inbox_id)
                                   .order_by(RecipeRun.id)).all()
        assert [r.recipe_name for r in runs] == ["first", "second"]
        customer = uow.session.scalars(select(Customer).where(
            Customer.external_id == "cus_no_stop")).unique().one()
        assert customer.custom_fields["reached"] == "yes"


def test_a_dry_run_of_the_stopping_recipe_says_what_it_skips(client, demo, admin):  # type: ignore[no-untyped-def]
    event = {"id": "stripe:evt_dry:0", "connection": "stripe", "connector": "stripe",
             "type": "customer.created", "vendor_event_id": "evt_dry",
             "occurred_at": "2030-01-01T00:00:00Z", "raw_ref": "0", "changes": [],
             "customer": {"external_id": "cus_dry", "payment_method": "card", "custom_fields": {}}}
    r = client.post("/api/v1/recipes/first/test", json={"event": event}, headers=admin)
    assert r.status_code == 200, r.json
    result = r.json["results"][0]
    assert result["stopped"] == "all"
    assert "later recipes do not run" in result["trace"][-1]["message"]
