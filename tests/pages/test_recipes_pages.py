"""The recipe pages: the loaded set with problems by file and line, versions and their diff, the
recipe's own test cases, and dry runs on a stored inbox event that change nothing."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.db.models import AssignmentHistory, InboxEvent
from hub.services.directory.customers import get_customer

ROOT = Path(__file__).resolve().parents[2]
STRIPE = "stripe-payment-method-to-workflow"
FAILING_CASE = """name: always-standard
trigger: {connector: stripe, events: [customer.created]}
steps:
  - assign_workflow: Standard
tests:
  - name: expects the wrong workflow
    event: {customer: {payment_method: card}}
    expect:
      updates: [{field: workflow, value: {name: Card payers}}]
"""


@pytest.fixture
def recipes_dir(tmp_path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "recipes"
    shutil.copytree(ROOT / "recipes", folder)
    return folder


@pytest.fixture
def settings(settings, recipes_dir):  # type: ignore[no-untyped-def]
    return settings.with_overrides({"recipes_dir": str(recipes_dir)})


def text_of(page: str) -> str:
    """The page as its reader sees it: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def row_of(page: str, recipe: str) -> str:
    found = re.search(rf'<tr data-recipe="{recipe}">(.*?)</tr>', page, re.S)
    assert found, f"no row for {recipe}"
    return found.group(1)


def stored_event(hub, payment_method: str, external_id: str = "cus_demo_hooli") -> int:  # type: ignore[no-untyped-def]
    """An inbox event already normalised, as the processing service leaves it."""
    event = {"id": "stripe:evt_page:0", "connection": "stripe", "connector": "stripe",
             "type": "customer.payment_method.changed", "vendor_event_id": "evt_page",
             "occurred_at": "2030-01-01T00:00:00Z", "raw_ref": "0",
             "changes": ["customer.payment_method"],
             "customer": {"external_id": external_id, "payment_method": payment_method,
                          "custom_fields": {}}}
    with hub.uow() as uow:
        row = InboxEvent(connection="stripe", connector="stripe", vendor_event_id="evt_page",
                         event_type=event["type"], status="processed", payload={"id": "evt_page"},
                         normalised=[event], customer_external_id=external_id)
        uow.session.add(row)
        uow.session.flush()
        event_id = row.id
        uow.commit()
    return int(event_id)


def test_the_list_shows_the_set_in_run_order_with_versions_and_state(as_ops, demo):  # type: ignore[no-untyped-def]
    answer = as_ops.get("/recipes")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    names = re.findall(r'<tr data-recipe="([^"]+)">', page)
    assert names[0] == "bad-payers" and STRIPE in names and len(names) == 5  # order 10 runs first
    assert "status-valid" in row_of(page, STRIPE) and "v1" in row_of(page, STRIPE)
    assert "refused" not in text_of(page)


def test_a_refused_folder_lists_the_broken_files_with_file_and_line(as_ops, demo, recipes_dir):  # type: ignore[no-untyped-def]
    as_ops.get("/recipes")
    (recipes_dir / "broken.yaml").write_text("name: broken\nbogus_key: 1\n")
    stripe = recipes_dir / f"{STRIPE}.yaml"
    stripe.write_text(stripe.read_text().replace("equals: enterprise", "equalz: enterprise"))
    demo.recipes.reload(force=True)
    page = as_ops.get("/recipes").get_data(as_text=True)
    assert "keeps running the last good set" in page
    failed = re.search(r'<ul class="stack" id="failed-files">(.*?)</ul>\s*</li>\s*</ul>', page, re.S)
    assert failed and re.search(r"broken\.yaml:2", failed.group(0))
    stripe_row = row_of(page, STRIPE)  # still running its last good version, its file refused
    assert "status-refused" in stripe_row and re.search(rf"{STRIPE}\.yaml:\d+", stripe_row)
    assert "status-valid" in row_of(page, "bad-payers")


def test_the_recipe_page_shows_yaml_versions_and_the_diff_of_two_versions(as_ops, demo, recipes_dir):  # type: ignore[no-untyped-def]
    as_ops.get(f"/recipes/{STRIPE}")
    path = recipes_dir / f"{STRIPE}.yaml"
    path.write_text(path.read_text().replace("Pick the collection", "Choose the collection"))
    demo.recipes.reload(force=True)
    page = as_ops.get(f"/recipes/{STRIPE}").get_data(as_text=True)
    assert "<pre class=\"yaml\"" in page and "Choose the collection" in page
    assert re.findall(r'<tr data-version="(\d+)">', page) == ["2", "1"]
    assert '<option value="1" selected>v1</option>' in page  # the compare form starts at 1 → 2
    diff = as_ops.get(f"/recipes/{STRIPE}?from=1&to=2").get_data(as_text=True)
    assert '<span class="del">-  Pick the collection' in diff
    assert '<span class="add">+  Choose the collection' in diff
    assert '<span class="add">+  enterprise' not in diff  # unchanged lines are not marked


@pytest.mark.parametrize(("query", "status"), [("from=1&to=9", 404), ("from=1", 400),
                                               ("from=one&to=1", 400), ("form=1&to=1", 400)])
def test_a_diff_of_unknown_or_malformed_versions_is_refused(as_ops, demo, query, status):  # type: ignore[no-untyped-def]
    assert as_ops.get(f"/recipes/{STRIPE}?{query}").status_code == status


def test_an_unknown_recipe_is_a_404(as_ops, demo):  # type: ignore[no-untyped-def]
    assert as_ops.get("/recipes/nope").status_code == 404


def test_the_recipe_test_cases_show_pass_and_fail(as_ops, demo, recipes_dir):  # type: ignore[no-untyped-def]
    passing = as_ops.get(f"/recipes/{STRIPE}").get_data(as_text=True)
    cases = re.findall(r'<li data-test="[^"]+"><span class="status status-(\w+)">', passing)
    assert cases and set(cases) == {"pass"}
    (recipes_dir / "always-standard.yaml").write_text(FAILING_CASE)
    demo.recipes.reload(force=True)
    failing = as_ops.get("/recipes/always-standard").get_data(as_text=True)
    assert re.search(r'data-test="expects the wrong workflow"><span class="status status-fail">', failing)
    assert '<span class="del">-        &#34;name&#34;: &#34;Card payers&#34;' in failing
    assert '<span class="add">+        &#34;name&#34;: &#34;Standard&#34;' in failing


def test_a_dry_run_on_a_stored_event_shows_the_branch_and_plan_and_changes_nothing(as_ops, demo):  # type: ignore[no-untyped-def]
    event_id = stored_event(demo, "sepa_debit")
    with demo.uow() as uow:
        history = uow.session.scalar(select(func.count(AssignmentHistory.id)))
    answer = as_ops.get(f"/recipes?recipe={STRIPE}&event={event_id}")
    assert answer.status_code == 200
    result = text_of(answer.get_data(as_text=True).split('id="dry-run"', 1)[1])
    assert "took cases.[sepa_debit, ach_debit, bacs_debit, direct_debit]" in result
    assert "customer.payment_method exists true actual \"sepa_debit\" → true" in result
    assert "workflow set {\"name\": \"Direct debit\"}" in result
    assert "applied \"wf_standard\" → \"wf_direct_debit\"" in result
    assert "nothing was written" in result
    assert get_customer(demo, "external:cus_demo_hooli").workflow_id == "wf_standard"
    with demo.uow() as uow:
        assert uow.session.scalar(select(func.count(AssignmentHistory.id))) == history


def test_the_recipe_page_dry_runs_that_recipe(as_admin, demo):  # type: ignore[no-untyped-def]
    event_id = stored_event(demo, "card")
    page = text_of(as_admin.get(f"/recipes/{STRIPE}?event={event_id}").get_data(as_text=True))
    assert f"Dry run: {STRIPE}" in page and "took cases.card" in page


def test_the_inbox_link_prefills_the_event_and_runs_nothing(as_ops, demo):  # type: ignore[no-untyped-def]
    page = as_ops.get("/recipes?event=42").get_data(as_text=True)
    assert 'name="event" type="number" min="1" required value="42"' in page
    assert 'id="dry-run"' not in page


def test_a_dry_run_on_an_unknown_event_is_a_404(as_ops, demo):  # type: ignore[no-untyped-def]
    assert as_ops.get(f"/recipes?recipe={STRIPE}&event=999999").status_code == 404


def test_an_unknown_parameter_is_a_400(as_ops, demo):  # type: ignore[no-untyped-def]
    answer = as_ops.get("/recipes?evnt=1")
    assert answer.status_code == 400 and "did you mean event" in answer.get_data(as_text=True)


def test_account_managers_may_not_open_the_recipe_pages(as_manager, demo):  # type: ignore[no-untyped-def]
    assert as_manager.get("/recipes").status_code == 403
    assert as_manager.get(f"/recipes/{STRIPE}").status_code == 403
