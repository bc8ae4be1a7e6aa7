"""The customer pages: the list (paged, filtered, scoped for account managers) and one customer's
profile, field owners, assignment history and runs, on the demo data."""

from __future__ import annotations

import html
import re

from hub.db.models import AssignmentHistory, RecipeRun
from hub.db.types import utcnow
from hub.services.directory.customers import get_customer


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def listed(page: str) -> list[str]:
    return re.findall(r'<tr data-customer="([^"]+)">', page)


def section(page: str, table: str) -> str:
    found = re.search(rf'<table id="{table}">(.*?)</table>', page, re.S)
    assert found, f"no table {table}"
    return found.group(1)


def add_run_and_its_history(hub, external_id: str) -> int:  # type: ignore[no-untyped-def]
    """A run for the customer, and the history row it caused (as the processing service writes)."""
    customer = get_customer(hub, f"external:{external_id}")
    with hub.uow() as uow:
        run = RecipeRun(connection="stripe", recipe_name="stripe-payment-method-to-workflow",
                        recipe_version=1, customer_id=customer.id, customer_external_id=external_id,
                        status="succeeded", trace=[], updates=[])
        uow.session.add(run)
        uow.session.flush()
        uow.session.add(AssignmentHistory(
            customer_id=customer.id, field="workflow", source="api", outcome="applied",
            old_value="wf_card", new_value="wf_card", occurred_at=utcnow(), cause_type="run",
            cause_id=str(run.id), actor="recipe:stripe-payment-method-to-workflow@v1"))
        run_id = run.id
        uow.commit()
    return int(run_id)


def test_the_list_shows_every_customer_with_workflow_managers_and_source(as_admin, demo):  # type: ignore[no-untyped-def]
    page = as_admin.get("/customers").get_data(as_text=True)
    customers = listed(page)
    assert {"cus_demo_acme", "cus_demo_globex", "cus_demo_initech"} <= set(customers)
    assert customers == sorted(customers)
    acme = re.search(r'<tr data-customer="cus_demo_acme">(.*?)</tr>', page, re.S)
    assert acme
    row = text_of(acme.group(1))
    assert "Acme Logistics LLC" in row and "Card payers" in row and "alice.martin@example.com" in row
    assert "demo" in row
    assert 'href="/customers/external:cus_demo_acme"' in acme.group(1)
    assert f"1–{len(customers)} of {len(customers)}" in page


def test_the_list_pages_by_offset_and_keeps_the_filter(as_admin, demo):  # type: ignore[no-untyped-def]
    everyone = listed(as_admin.get("/customers").get_data(as_text=True))
    page = as_admin.get("/customers?q=example&offset=2").get_data(as_text=True)
    assert listed(page)[0] == everyone[2] and 'href="/customers?q=example" rel="prev"' in page


def test_the_text_filter_narrows_the_list(as_ops, demo):  # type: ignore[no-untyped-def]
    assert listed(as_ops.get("/customers?q=globex").get_data(as_text=True)) == ["cus_demo_globex"]
    assert listed(as_ops.get("/customers?q=nobody-is-called-this").get_data(as_text=True)) == []


def test_an_unknown_parameter_is_a_400(as_admin, demo):  # type: ignore[no-untyped-def]
    answer = as_admin.get("/customers?query=acme")
    assert answer.status_code == 400 and "unknown parameter" in answer.get_data(as_text=True)
    assert as_admin.get("/customers?offset=-1").status_code == 400


def field_block(page: str, key: str) -> str:
    """One field of the assignments panel: value, owner and why (and, for admins, its actions)."""
    found = re.search(rf'data-field="{re.escape(key)}"(.*?)(?=<div class="assignment|</section>)', page, re.S)
    assert found, f"no field {key} in the assignments panel"
    return found.group(1)


def history_items(page: str) -> list[tuple[str, str, str]]:
    """The timeline's entries, newest first: (field, outcome, text)."""
    return [(field, outcome, text_of(body)) for field, outcome, body in re.findall(
        r'<li data-history-field="([^"]*)" data-outcome="([^"]*)"[^>]*>(.*?)</li>', page, re.S)]


def test_the_customer_page_shows_profile_owners_history_and_runs(as_ops, demo):  # type: ignore[no-untyped-def]
    run_id = add_run_and_its_history(demo, "cus_demo_acme")
    page = as_ops.get("/customers/external:cus_demo_acme").get_data(as_text=True)
    profile = text_of(page.split('id="profile"')[1].split("</dl>")[0])
    assert "Acme Logistics LLC" in profile and "billing@acme.example" in profile
    assert "USD" in profile and "card" in profile and "demo" in profile and "segment" in profile
    workflow = field_block(page, "workflow")
    assert "Card payers" in workflow and "Owned by manual (rank 1)" in text_of(workflow)
    assert "<time" in workflow  # when the change that set it happened
    assert "same rank and newer will be applied" in text_of(workflow)
    managers = field_block(page, "accountManagers")
    assert "alice.martin@example.com" in managers and "Owned by manual" in text_of(managers)
    segment = field_block(page, "customFields.segment")
    assert "smb" in segment and "Owned by manual" in text_of(segment)
    history = page.split('id="history"')[1].split("</ol>")[0]
    assert f'<a href="/runs/{run_id}">run #{run_id}</a>' in history
    newest = history_items(page)[0]
    assert newest[:2] == ("workflow", "applied") and "Card payers (wf_card)" in newest[2]
    assert any("demo data" in text for _, _, text in history_items(page))
    runs = section(page, "runs")
    assert f'href="/runs/{run_id}"' in runs and "stripe-payment-method-to-workflow" in runs
    assert 'href="/runs?customer=cus_demo_acme"' in page


def test_the_customer_page_opens_by_hub_id_and_unknown_ones_are_404(as_admin, demo):  # type: ignore[no-untyped-def]
    customer = get_customer(demo, "external:cus_demo_initech")
    page = as_admin.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "Initech GmbH" in page
    assert as_admin.get("/customers/external:cus_nobody").status_code == 404


def test_an_account_manager_sees_only_their_own_customers(as_manager, demo):  # type: ignore[no-untyped-def]
    assert set(listed(as_manager.get("/customers").get_data(as_text=True))) == {
        "cus_demo_acme", "cus_demo_initech"}
    assert listed(as_manager.get("/customers?q=globex").get_data(as_text=True)) == []
    assert as_manager.get("/customers/external:cus_demo_acme").status_code == 200
    assert as_manager.get("/customers/external:cus_demo_globex").status_code == 404
    globex = get_customer(demo, "external:cus_demo_globex")
    assert as_manager.get(f"/customers/{globex.id}").status_code == 404


def test_an_account_manager_gets_no_run_links_they_could_not_open(as_manager, demo):  # type: ignore[no-untyped-def]
    run_id = add_run_and_its_history(demo, "cus_demo_acme")
    page = as_manager.get("/customers/external:cus_demo_acme").get_data(as_text=True)
    assert f'href="/runs/{run_id}"' not in page and 'id="runs"' not in page
    assert f"run #{run_id}" in text_of(page)  # the cause is still named, only not linked
    assert "Acme Logistics LLC" in page
