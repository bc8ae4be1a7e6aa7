"""Recipes through the API and CLI: versions, validation state, dry runs that write nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.db.models import AssignmentHistory
from hub.services.demo import load_demo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def recipes_dir(tmp_path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "recipes"
    shutil.copytree(ROOT / "recipes", folder)
    return folder


@pytest.fixture
def settings(settings, recipes_dir):  # type: ignore[no-untyped-def]
    return settings.with_overrides({"recipes_dir": str(recipes_dir)})


@pytest.fixture
def demo(hub):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        load_demo(uow.session)
        uow.commit()
    return hub


def stripe_event(method: str = "card", external_id: str = "cus_demo_hooli") -> dict:
    return {"id": "stripe:evt_x:0", "connection": "stripe", "connector": "stripe",
            "type": "customer.payment_method.changed", "vendor_event_id": "evt_x",
            "occurred_at": "2030-01-01T00:00:00Z", "raw_ref": "0", "changes": ["customer.payment_method"],
            "customer": {"external_id": external_id, "payment_method": method, "custom_fields": {}}}


def test_list_and_detail_show_versions_and_yaml(client, admin, demo):  # type: ignore[no-untyped-def]
    listed = client.get("/api/v1/recipes", headers=admin).json
    names = [r["name"] for r in listed["recipes"]]
    assert "stripe-payment-method-to-workflow" in names and listed["refused"] is False
    detail = client.get("/api/v1/recipes/stripe-payment-method-to-workflow", headers=admin).json
    assert detail["versions"][0]["version"] == 1 and detail["versions"][0]["current"]
    assert "switch: customer.payment_method" in detail["yaml"]
    assert client.get("/api/v1/recipes/nope", headers=admin).status_code == 404


def test_changed_file_becomes_a_new_version(client, admin, demo, recipes_dir):  # type: ignore[no-untyped-def]
    client.get("/api/v1/recipes", headers=admin)
    path = recipes_dir / "stripe-payment-method-to-workflow.yaml"
    path.write_text(path.read_text().replace("Pick the collection", "Choose the collection"))
    demo.recipes.reload(force=True)
    detail = client.get("/api/v1/recipes/stripe-payment-method-to-workflow", headers=admin).json
    assert [v["version"] for v in detail["versions"]] == [2, 1]


def test_invalid_folder_is_refused_and_the_last_good_set_keeps_running(client, admin, demo, recipes_dir):  # type: ignore[no-untyped-def]
    demo.recipes.reload(force=True)
    (recipes_dir / "broken.yaml").write_text("name: broken\nbogus_key: 1\n")
    demo.recipes.reload(force=True)
    listed = client.get("/api/v1/recipes", headers=admin).json
    assert listed["refused"] is True and len(listed["recipes"]) == 5
    assert any(p["file"].endswith("broken.yaml") and p["line"] for p in listed["problems"])


def test_dry_run_shows_branch_and_dunning_plan_and_writes_nothing(client, admin, demo):  # type: ignore[no-untyped-def]
    with demo.uow() as uow:
        before = uow.session.scalar(select(func.count(AssignmentHistory.id)))
    r = client.post("/api/v1/recipes/stripe-payment-method-to-workflow/test",
                    json={"event": stripe_event("card")}, headers=admin)
    assert r.status_code == 200, r.json
    result = r.json["results"][0]
    assert any(t.get("kind") == "branch" for t in result["trace"])
    assert result["outcomes"][0]["new"] == "wf_card" and result["outcomes"][0]["outcome"] == "applied"
    customer = client.get("/api/v1/customers/external:cus_demo_hooli", headers=admin).json
    assert customer["dunningPlanId"] == "wf_standard"
    with demo.uow() as uow:
        assert uow.session.scalar(select(func.count(AssignmentHistory.id))) == before


def test_dry_run_refuses_an_event_that_is_not_schema_valid(client, admin, demo):  # type: ignore[no-untyped-def]
    bad = {**stripe_event(), "customer": {"payment_method": "cheque"}}
    r = client.post("/api/v1/recipes/stripe-payment-method-to-workflow/test", json={"event": bad},
                    headers=admin)
    assert r.status_code == 422


def test_cli_validate_exit_status_and_test_all(runner, demo, recipes_dir, tmp_path):  # type: ignore[no-untyped-def]
    ok = runner.invoke(args=["recipes", "validate"])
    assert ok.exit_code == 0 and "0 error(s)" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntrigger: {connector: stripe, events: [customer.created]}\n"
                   "steps:\n  - if: {field: customer.payment_method, equalz: card}\n"
                   "    then: [{stop: recipe}]\n")
    refused = runner.invoke(args=["recipes", "validate", str(bad)])
    assert refused.exit_code == 1 and "bad.yaml:4" in refused.output
    cases = runner.invoke(args=["recipes", "test", "--all"])
    assert cases.exit_code == 0 and " 0 failed" in cases.output


def test_cli_test_prints_trace_and_plan(runner, demo, tmp_path):  # type: ignore[no-untyped-def]
    event = tmp_path / "event.json"
    event.write_text(json.dumps(stripe_event("sepa_debit")))
    result = runner.invoke(args=["recipes", "test", "stripe-payment-method-to-workflow", str(event)])
    assert result.exit_code == 0
    out = json.loads(result.output)
    assert out["plan"][0]["value"] == {"name": "Direct debit"} and out["trace"]
