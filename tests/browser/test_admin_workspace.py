"""The admin workspace in a real browser: the customer list with filters and saved views, bulk
assignment with its precedence warning, in-place edits on a customer's page, a CSV import with a
column mapping, and an account manager's narrower view.

Same set-up as the ops console (tests/browser/conftest.py): gunicorn and a Celery worker on the
session's database. Each test makes the customers it changes, so the tests keep to themselves.
"""

from __future__ import annotations

import csv
import io
import re

import requests
from playwright.sync_api import expect

from tests.browser.conftest import screenshot


def make_customers(console, segment: str, n: int, api_owned_workflow: str | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    """n customers with customFields.segment = segment; with api_owned_workflow, one more whose
    workflow the API set (so the API, ranked above manual edits, owns it)."""
    ids = []
    for i in range(n):
        external_id = f"cus_{segment}_{i}"
        answer = console.api("post", "/customers", json={
            "externalId": external_id, "name": f"{segment.title()} customer {i}",
            "customFields": {"segment": segment}})
        assert answer.status_code in (200, 201), answer.text
        ids.append(external_id)
    if api_owned_workflow:
        external_id = f"cus_{segment}_api"
        answer = console.api("post", "/customers", json={
            "externalId": external_id, "name": f"{segment.title()} customer owned by the API",
            "dunningPlanId": api_owned_workflow, "customFields": {"segment": segment}})
        assert answer.status_code in (200, 201), answer.text
        ids.append(external_id)
    return ids


def listed(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("#customers tbody tr[data-customer]").evaluate_all(
        "rows => rows.map(r => r.dataset.customer)")


def columns(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("#customers th[data-column]").evaluate_all("ths => ths.map(t => t.dataset.column)")


def test_filter_choose_columns_save_a_view_and_reopen_it(page_for, console):  # type: ignore[no-untyped-def]
    expected = make_customers(console, "viewtest", 3)
    page = page_for("admin")
    page.goto(f"{console.url}/customers")
    page.locator("[data-custom-field=segment]").fill("viewtest")
    page.locator("#filter-go").click()
    expect(page).to_have_url(re.compile(r"cf\.segment=viewtest"))
    expect(page.locator("#customers tbody tr[data-customer]")).to_have_count(3)
    assert sorted(listed(page)) == expected

    page.locator("#columns summary").click()
    page.locator("#column-list li[data-column=email] input[name=show]").uncheck()
    page.get_by_role("button", name="Move Workflow up").click()  # workflow now before the one above it
    expect(page.locator("#customers th[data-column=email]")).to_have_count(0)
    order = columns(page)
    assert order.index("workflow") < len(order) - 1 and "email" not in order

    page.locator("#saved-views summary").click()
    page.locator("#view-name").fill("Pilot segment")
    page.locator("#view-shared").check()
    page.locator("#save-view-go").click()
    expect(page.locator("#current-view")).to_contain_text("Pilot segment")
    screenshot(page, console, "customers-list")

    page.goto(f"{console.url}/customers")
    expect(page.locator("#customers tbody tr[data-customer]")).not_to_have_count(3)
    page.locator("#saved-views summary").click()
    page.locator("#my-views a", has_text="Pilot segment").click()
    expect(page).to_have_url(re.compile(r"cf\.segment=viewtest"))
    assert sorted(listed(page)) == expected
    reopened = columns(page)
    assert reopened == order  # the columns, hidden and moved, came back with the view


def test_select_all_matching_and_bulk_assign_a_workflow_reports_the_api_owned_one(page_for, console):  # type: ignore[no-untyped-def]
    ids = make_customers(console, "bulktest", 3, api_owned_workflow="wf_enterprise")
    page = page_for("admin")
    page.goto(f"{console.url}/customers?cf.segment=bulktest")
    expect(page.locator("#customers tbody tr[data-customer]")).to_have_count(4)
    page.locator("#select-all-matching").check()
    page.locator("#bulk-action").select_option("workflow")
    page.locator("#bulk-go").click()

    page.locator("#bulk-workflow").select_option("wf_net_terms")
    page.locator("#bulk-preview-go").click()
    preview = page.locator("main")
    expect(preview).to_contain_text("4 customers")
    expect(preview).to_contain_text("api")
    screenshot(page, console, "bulk-confirm")
    page.locator("#bulk-confirm").click()

    result = page.locator("#bulk-result")
    expect(result.locator("[data-outcome=applied]")).to_have_attribute("data-count", "3")
    expect(result.locator("[data-outcome=overruled]")).to_have_attribute("data-count", "1")
    expect(result).to_contain_text("api")
    screenshot(page, console, "bulk-result")
    for external_id in ids:
        customer = console.api("get", f"/customers/external:{external_id}").json()
        wanted = "wf_enterprise" if external_id.endswith("_api") else "wf_net_terms"
        assert customer["dunningPlanId"] == wanted, customer


def test_edit_a_customers_account_managers_in_place_and_see_the_history(page_for, console):  # type: ignore[no-untyped-def]
    make_customers(console, "edittest", 1)
    page = page_for("admin")
    page.goto(f"{console.url}/customers/external:cus_edittest_0")
    managers = page.locator("[data-field=accountManagers]")
    managers.locator("#edit-accountManagers").click()
    page.locator("input[name=accountManagers][value='bob.chen@example.com']").check()
    page.locator("input[name=accountManagers][value='carla.diaz@example.com']").check()
    screenshot(page, console, "customer-edit")
    page.locator("#save-accountManagers").click()
    expect(page.locator("#assign-outcome")).to_contain_text(re.compile("applied", re.I))
    expect(page.locator("[data-field=accountManagers]")).to_contain_text("bob.chen@example.com")
    expect(page.locator("[data-field=accountManagers]")).to_have_attribute("data-owner", "manual")
    page.reload()
    entry = page.locator("#history li[data-history-field=accountManagers]").first
    expect(entry).to_contain_text("bob.chen@example.com")
    expect(entry).to_contain_text("finance.admin@example.com")
    screenshot(page, console, "customer-history")


IMPORT_FILE = (
    "Client reference,Account manager email,Workflow name\r\n"
    "cus_demo_hooli,carla.diaz@example.com,Standard\r\n"
    "cus_nobody_has_this_id,alice.martin@example.com,Standard\r\n"
    "cus_demo_umbrella,no.such.person@example.com,Bad payers\r\n"
)


def test_a_csv_import_with_a_renamed_column_ends_in_error_with_its_failed_lines(page_for, console, tmp_path):  # type: ignore[no-untyped-def]
    upload = tmp_path / "assignments.csv"
    upload.write_bytes(IMPORT_FILE.encode())
    page = page_for("admin")
    page.goto(f"{console.url}/imports")
    page.locator("#file-input").set_input_files(str(upload))
    page.locator("#upload-go").click()

    expect(page.locator("#map-external_id")).to_be_visible()
    page.locator("#map-external_id").select_option("Client reference")
    expect(page.locator("#map-account_manager_emails")).to_have_value("Account manager email")
    expect(page.locator("#map-workflow_name")).to_have_value("Workflow name")
    screenshot(page, console, "import-mapping")
    page.locator("#start-import").click()

    status = page.locator("#import-status")
    expect(status).to_have_attribute("data-status", "error", timeout=30_000)
    errors = page.locator("#import-errors tbody tr[data-line]")
    expect(errors).to_have_count(2)
    expect(page.locator("#import-errors")).to_contain_text("cus_nobody_has_this_id")
    expect(page.locator("#import-errors")).to_contain_text("no.such.person@example.com")
    screenshot(page, console, "import-result")

    with page.expect_download() as download:
        page.locator("#download-errors").click()
    text = download.value.path().read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    original = list(csv.reader(io.StringIO(IMPORT_FILE)))
    assert rows[0][:3] == original[0]
    assert [row[:3] for row in rows[1:]] == [original[2], original[3]]
    assert all(row[3] for row in rows[1:])  # each line says why it failed

    page.goto(f"{console.url}/imports")
    expect(page.locator("#imports tbody tr").first).to_contain_text("error")


def test_an_account_manager_sees_only_their_customers_in_the_list_count_and_export(page_for, console):  # type: ignore[no-untyped-def]
    page = page_for("account_manager")
    page.goto(f"{console.url}/customers")
    mine = set(listed(page))
    assert {"cus_demo_acme", "cus_demo_initech"} <= mine
    assert "cus_demo_globex" not in mine and "cus_demo_hooli" not in mine
    expect(page.locator("main")).to_contain_text(f"{len(mine)} customer")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    exported = requests.get(f"{console.url}/customers/export.csv", cookies=cookies, timeout=10)
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert {row[0] for row in rows[1:]} == mine
    for path in ("/imports", "/users"):
        answer = page.goto(f"{console.url}{path}")
        assert answer is not None and answer.status == 403, path
    expect(page.locator("#bulk-form")).to_have_count(0)


def test_create_a_workflow_and_invite_a_user(page_for, console):  # type: ignore[no-untyped-def]
    page = page_for("admin")
    page.goto(f"{console.url}/workflows")
    page.locator("#wf-name").fill("Browser test plan")
    page.locator("#wf-create").click()
    row = page.locator("#workflows tr", has_text="Browser test plan")
    expect(row).to_have_count(1)
    screenshot(page, console, "workflow-created")
    page.locator("#wf-name").fill("browser TEST plan")
    page.locator("#wf-create").click()
    expect(page.locator("#wf-error")).to_contain_text(re.compile("already", re.I))

    page.goto(f"{console.url}/users")
    page.locator("#invite-email").fill("new.colleague@example.com")
    page.locator("#invite-name").fill("New Colleague")
    page.locator("#invite-role").select_option("account_manager")
    page.locator("#invite-send").click()
    link = page.locator("#invite-link").input_value()
    assert "/invite/" in link
    expect(page.locator("#users tr[data-user='new.colleague@example.com']")).to_have_count(1)
    screenshot(page, console, "user-invite")
