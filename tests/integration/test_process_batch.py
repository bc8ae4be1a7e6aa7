"""Processing events in batches (hub.services.processing.batch): the same outcome as one event at
a time, in one transaction, with a bad event failing alone."""

from __future__ import annotations

import json
import shutil
import threading

import pytest
import responses
from sqlalchemy import select

from hub.db.models import AssignmentHistory, Customer, InboxEvent, RecipeRun
from hub.recipes import engine
from hub.services.demo import load_demo
from hub.services.processing import batch
from hub.services.processing.process import process_event
from tests.conftest import _empty_all_tables
from tests.integration.test_processing import ROOT, SECRET, STRIPE_API, pm_event, post

RECIPES = ROOT / "recipes"
UNKNOWN_MANAGER = """\
name: vip-desk
trigger: {connector: stripe, events: [customer.created]}
when: {field: customer.name, equals: VIP Inc}
steps:
  - add_account_manager: nobody@example.com
"""


@pytest.fixture
def settings(settings, tmp_path):  # type: ignore[no-untyped-def]
    recipes = tmp_path / "batch-recipes"
    shutil.copytree(RECIPES, recipes)
    (recipes / "vip-desk.yaml").write_text(UNKNOWN_MANAGER)
    return settings.with_overrides({
        "env": {"HUB_STRIPE_WEBHOOK_SECRET": SECRET, "HUB_STRIPE_API_KEY": "sk_test_x"},
        "recipes_dir": str(recipes), "retry_base_seconds": 0.01,
    })


@pytest.fixture
def demo(hub):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        load_demo(uow.session)
        uow.commit()
    return hub


def enterprise(event: dict) -> dict:
    event["data"]["object"]["metadata"] = {"segment": "enterprise"}
    return event


def named(event: dict, name: str) -> dict:
    event["data"]["object"]["name"] = name
    return event


def a_day_of_events() -> list[dict]:
    """New customers, one customer changed twice, an older event after a newer one, managers."""
    t = 1795340000
    return [
        pm_event("evt_b1", "cus_b1", "card", t),
        pm_event("evt_b2", "cus_b2", "sepa_debit", t + 1),
        pm_event("evt_b3", "cus_twice", "card", t + 2),
        pm_event("evt_b4", "cus_twice", "ach_debit", t + 3),  # the same customer, later in the batch
        pm_event("evt_b5", "cus_late", "sepa_debit", t + 10),
        pm_event("evt_b6", "cus_late", "card", t + 5),  # older than the one before it: stale
        enterprise(pm_event("evt_b7", "cus_big", "card", t + 6)),
        named(pm_event("evt_b8", "cus_vip", "card", t + 7), "VIP Inc"),  # a recipe naming an unknown user
    ]


def what_happened(hub) -> dict:  # type: ignore[no-untyped-def]
    """Everything processing writes, without ids and times."""
    with hub.uow() as uow:
        s = uow.session
        customers = {c.external_id: (c.workflow_id, c.payment_method, c.name,
                                     sorted(u.email for u in c.account_managers), c.custom_fields,
                                     {f: o["source"] for f, o in c.ownership.items()})
                     for c in s.scalars(select(Customer)).unique()}
        ids = {c.id: c.external_id for c in s.scalars(select(Customer)).unique()}
        history = sorted((ids[h.customer_id], h.field, h.outcome, h.source, h.new_value is None, h.cause_type)
                         for h in s.scalars(select(AssignmentHistory)))
        runs = sorted((r.customer_external_id or "", r.recipe_name or "", r.status, r.error_class or "",
                       r.message or "", json.dumps(r.updates, sort_keys=True))
                      for r in s.scalars(select(RecipeRun)))
        inbox = sorted((e.vendor_event_id, e.status, e.customer_external_id)
                       for e in s.scalars(select(InboxEvent)))
    return {"customers": customers, "history": history, "runs": runs, "inbox": inbox}


def post_all(client, events: list[dict]) -> list[int]:  # type: ignore[no-untyped-def]
    return [post(client, e) for e in events]


def test_a_batch_applies_exactly_what_one_event_at_a_time_applies(client, demo):  # type: ignore[no-untyped-def]
    ids = post_all(client, a_day_of_events())
    result = batch.process_events(demo, ids)
    assert (result.processed, result.failed, result.one_by_one) == (8, 0, False)
    batched = what_happened(demo)

    _empty_all_tables(demo)  # the same events again, on the same demo data, one at a time
    demo.queue.sent.clear()
    with demo.uow() as uow:
        load_demo(uow.session)
        uow.commit()
    for inbox_id in post_all(client, a_day_of_events()):
        assert process_event(demo, inbox_id).status == "processed"
    assert what_happened(demo) == batched

    customers = batched["customers"]
    assert customers["cus_twice"][:2] == ("wf_direct_debit", "ach_debit")  # the later event won
    assert customers["cus_late"][:2] == ("wf_direct_debit", "sepa_debit")  # the older one was stale
    assert customers["cus_big"][3] == ["ae-team@example.com"]
    vip = [r for r in batched["runs"] if r[0] == "cus_vip"]
    assert any(r[1:4] == ("vip-desk", "failed", "config") for r in vip)
    assert customers["cus_vip"][0] == "wf_card"  # the other recipe's run for that event stands


def test_a_redelivered_batch_changes_nothing(client, demo):  # type: ignore[no-untyped-def]
    ids = post_all(client, a_day_of_events())
    batch.process_events(demo, ids)
    before = what_happened(demo)
    again = batch.process_events(demo, ids)
    assert (again.processed, again.already) == (0, 8)
    assert what_happened(demo) == before


@responses.activate
def test_an_event_whose_vendor_fetch_fails_fails_alone(client, demo):  # type: ignore[no-untyped-def]
    fetching = pm_event("evt_fetch", "cus_fetch", "card", 1795340000)
    fetching["data"]["object"]["invoice_settings"]["default_payment_method"] = "pm_by_id"
    responses.get(f"{STRIPE_API}/v1/customers/cus_fetch", status=500, json={"error": {"message": "boom"}})
    ids = post_all(client, [pm_event("evt_ok1", "cus_ok1", "card", 1795340000), fetching,
                            pm_event("evt_ok2", "cus_ok2", "card", 1795340001)])
    result = batch.process_events(demo, ids)
    assert (result.processed, result.failed, result.one_by_one) == (2, 1, False)
    with demo.uow() as uow:
        statuses = dict(uow.session.execute(select(InboxEvent.vendor_event_id, InboxEvent.status)).all())
    assert statuses == {"evt_ok1": "processed", "evt_fetch": "retrying", "evt_ok2": "processed"}


def test_a_poisoned_event_fails_alone_and_the_rest_of_its_batch_is_applied(client, demo, monkeypatch):  # type: ignore[no-untyped-def]
    real = engine.evaluate

    def evaluate(recipe, event, snapshot=None):  # type: ignore[no-untyped-def]
        if event["customer"]["external_id"] == "cus_poison":
            raise ZeroDivisionError("a bug that only this event meets")
        return real(recipe, event, snapshot)

    monkeypatch.setattr(engine, "evaluate", evaluate)
    ids = post_all(client, [pm_event("evt_p1", "cus_p1", "card", 1795340000),
                            pm_event("evt_p2", "cus_poison", "card", 1795340001),
                            pm_event("evt_p3", "cus_p3", "sepa_debit", 1795340002)])
    result = batch.process_events(demo, ids)
    assert (result.processed, result.failed, result.one_by_one) == (2, 1, True)
    state = what_happened(demo)
    assert state["customers"]["cus_p1"][0] == "wf_card"
    assert state["customers"]["cus_p3"][0] == "wf_direct_debit"
    poisoned = [r for r in state["runs"] if r[0] == "cus_poison"]
    assert [(r[2], r[3]) for r in poisoned] == [("retrying", "retryable")]
    assert "ZeroDivisionError" in poisoned[0][4]


def test_two_batches_on_the_same_customers_at_once_apply_each_event_once(client, demo):  # type: ignore[no-untyped-def]
    t = 1795340000
    first = post_all(client, [pm_event(f"evt_x{n}", f"cus_shared{n % 5}", "card", t + n) for n in range(20)])
    second = post_all(client, [pm_event(f"evt_y{n}", f"cus_shared{(7 - n) % 5}", "sepa_debit", t + 100 + n)
                               for n in range(20)])
    results: list[batch.BatchResult] = []
    start = threading.Barrier(2)

    def run(ids: list[int]) -> None:
        start.wait()
        results.append(batch.process_events(demo, ids))

    threads = [threading.Thread(target=run, args=(ids,)) for ids in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r.processed for r in results) == 40 and sum(r.failed for r in results) == 0
    state = what_happened(demo)
    assert {c[:2] for ref, c in state["customers"].items() if ref.startswith("cus_shared")} == {
        ("wf_direct_debit", "sepa_debit")}  # the newer events, whichever batch ran first
    assert all(status == "processed" for _, status, _ in state["inbox"])


def test_threads_that_meet_the_first_recipe_load_all_wait_for_it(demo):  # type: ignore[no-untyped-def]
    start, names = threading.Barrier(4), []

    def current() -> None:
        start.wait()
        names.append(len(demo.recipes.current().recipes))

    threads = [threading.Thread(target=current) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert names == [6, 6, 6, 6]  # the shipped five and vip-desk, never the empty set


def test_the_worker_task_takes_a_batch(demo, client):  # type: ignore[no-untyped-def]
    from worker import tasks

    ids = post_all(client, a_day_of_events()[:3])
    with client.application.app_context():
        assert tasks.process_events.run(ids) == "3 processed, 0 already, 0 failed"

