"""The customer page's in-place edits, releases and timeline: who owns each field and why, the
warning before a save that would be overruled, the per-field outcome, the history entry with its
cause, roles, CSRF, bad input, and the routes under /customers/<path:ref> not shadowing others."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from hub.db.models import AssignmentHistory, Customer
from hub.db.types import utcnow
from hub.domain.precedence import Ownership
from hub.services.assignment import Cause
from hub.services.directory.customer_writes import CustomerWrite, update_customer
from hub.services.directory.customers import get_customer
from hub.services.queries.customers import cause_link, standing
from hub.web.pages import customer_page
from tests.pages.conftest import page_csrf
from tests.pages.test_customers_pages import field_block, history_items, text_of

ACME = "external:cus_demo_acme"
HX = {"HX-Request": "true"}


def acme_id(hub) -> str:  # type: ignore[no-untyped-def]
    return get_customer(hub, ACME).id


def write_as(hub, source: str, **body) -> None:  # type: ignore[no-untyped-def]
    """A write to Acme from another source (the API by default), as the API's PUT makes it."""
    write = CustomerWrite.from_payload({**body, "source": source})
    update_customer(hub, ACME, write, Cause("api_request", "req-test-1", "key:integration"))


def history_count(hub) -> int:  # type: ignore[no-untyped-def]
    with hub.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count(AssignmentHistory.id))) or 0


def assign(client, cid: str, headers: dict | None = None, **form):  # type: ignore[no-untyped-def]
    token = page_csrf(client, f"/customers/{cid}")
    return client.post(f"/customers/{cid}/assign", data={"csrf_token": token, **form}, headers=headers or {})


def outcome_of(page: str) -> str:
    found = re.search(r'<div id="assign-outcome"[^>]*>(.*?)</div>', page, re.S)
    assert found, "no outcome region"
    return text_of(found.group(1))


# -- who owns each field and why -------------------------------------------------------------


def test_each_field_says_who_owns_it_when_and_what_a_manual_edit_would_meet(as_admin, demo):  # type: ignore[no-untyped-def]
    write_as(demo, "api", dunningPlanId="wf_standard")
    page = as_admin.get(f"/customers/{acme_id(demo)}").get_data(as_text=True)
    workflow = text_of(field_block(page, "workflow"))
    assert "Standard" in workflow and "Owned by api (rank 3)" in workflow
    assert "A manual edit (rank 1) will be overruled: api ranks higher." in workflow
    assert "An admin can release the field" in workflow
    assert "<time datetime=" in field_block(page, "workflow")
    managers = text_of(field_block(page, "accountManagers"))
    assert "Owned by manual (rank 1)" in managers and "same rank and newer will be applied" in managers
    assert "Owned by manual" in text_of(field_block(page, "customFields.segment"))
    precedence = text_of(page.split('id="precedence"')[1].split("</section>")[0])
    assert "salesforce (account managers only) > api > smart_rule > csv = manual" in precedence
    assert "newer change wins" in precedence
    for link in ('href="/customers"', 'href="/imports"', 'href="/recipes"', 'href="/api/v1/openapi.json"'):
        assert link in page


def test_the_verdict_covers_no_owner_a_newer_owner_and_salesforce():  # type: ignore[no-untyped-def]
    now = utcnow()
    free = standing("workflow", Ownership(None, None), None, now)
    assert not free.overruled and "No source owns" in free.summary
    newer = standing("workflow", Ownership("csv", now + timedelta(hours=1)), "wf_card", now)
    assert newer.overruled and "stale" in newer.consequence
    crm = standing("account_managers", Ownership("salesforce", now), [], now)
    assert crm.overruled and "salesforce ranks higher" in crm.consequence and crm.key == "accountManagers"


# -- the edit form and its warning -------------------------------------------------------------


def test_the_edit_form_warns_before_saving_when_api_owns_the_field(as_admin, demo):  # type: ignore[no-untyped-def]
    cid = acme_id(demo)
    write_as(demo, "api", dunningPlanId="wf_standard")
    for headers in (HX, {}):
        answer = as_admin.get(f"/customers/{cid}/edit/workflow", headers=headers)
        page = answer.get_data(as_text=True)
        assert answer.status_code == 200
        warning = re.search(r'<p class="alert warning" id="warning-workflow"[^>]*>(.*?)</p>', page, re.S)
        assert warning and "will be overruled: api ranks higher" in text_of(warning.group(1))
        assert '<select id="workflow-input" name="dunningPlanId"' in page and 'id="save-workflow"' in page
        assert '<option value="wf_standard" selected>' in page and '<option value="">' in page
    fragment = as_admin.get(f"/customers/{cid}/edit/workflow", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and 'id="form-workflow"' in fragment
    managers = as_admin.get(f"/customers/{cid}/edit/accountManagers").get_data(as_text=True)
    assert 'id="warning-accountManagers"' not in managers  # manual owns it: the edit will apply
    assert re.search(r'name="accountManagers" value="alice.martin@example.com" checked', managers)
    assert 'value="bob.chen@example.com">' in managers and 'id="save-accountManagers"' in managers
    assert as_admin.get(f"/customers/{cid}/edit/customFields.segment").status_code == 404


# -- saving --------------------------------------------------------------------------------------


def test_an_admin_edit_of_the_managers_applies_and_lands_in_the_history(as_admin, demo):  # type: ignore[no-untyped-def]
    cid = acme_id(demo)
    answer = assign(as_admin, cid, field="accountManagers",
                    accountManagers=["bob.chen@example.com", "carla.diaz@example.com"])
    assert answer.status_code == 303
    assert "saved=accountManagers" in answer.location and "outcome=applied" in answer.location
    page = as_admin.get(answer.location).get_data(as_text=True)
    assert "Applied" in outcome_of(page)
    assert "Owned by manual" in text_of(field_block(page, "accountManagers"))
    field, outcome, text = history_items(page)[0]
    assert (field, outcome) == ("accountManagers", "applied")
    assert "alice.martin@example.com → bob.chen@example.com, carla.diaz@example.com" in text
    assert "edited on this page by finance.admin@example.com" in text
    with demo.uow(read_only=True) as uow:
        row = uow.session.scalars(select(AssignmentHistory).order_by(AssignmentHistory.id.desc())).first()
        assert row.cause_type == "page_edit" and row.actor == "user:finance.admin@example.com"
        assert row.source == "manual"
    assert [u.email for u in get_customer(demo, cid).account_managers] == [
        "bob.chen@example.com", "carla.diaz@example.com"]


def test_with_htmx_a_save_swaps_the_panel_and_the_history(as_admin, demo):  # type: ignore[no-untyped-def]
    cid = acme_id(demo)
    answer = assign(as_admin, cid, HX, field="workflow", dunningPlanId="wf_enterprise")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<html" not in page
    assert page.lstrip().startswith('<section class="card assignments" id="assignments"')
    assert "Applied" in outcome_of(page) and "Enterprise" in field_block(page, "workflow")
    assert 'id="history-section" aria-labelledby="history-title" hx-swap-oob="true"' in page
    assert history_items(page)[0][:2] == ("workflow", "applied")
    assert "Card payers (wf_card) → Enterprise (wf_enterprise)" in history_items(page)[0][2]
    unchanged = assign(as_admin, cid, HX, field="workflow", dunningPlanId="wf_enterprise")
    assert "Unchanged" in outcome_of(unchanged.get_data(as_text=True))


def test_an_edit_of_an_api_owned_workflow_is_not_saved_and_says_why(as_admin, demo):  # type: ignore[no-untyped-def]
    cid = acme_id(demo)
    write_as(demo, "api", dunningPlanId="wf_standard")
    answer = assign(as_admin, cid, field="workflow", dunningPlanId="wf_enterprise")
    assert answer.status_code == 303
    assert "outcome=overruled" in answer.location and "by=api" in answer.location
    page = as_admin.get(answer.location).get_data(as_text=True)
    assert "Not saved: owned by api, which ranks higher." in outcome_of(page)
    assert get_customer(demo, cid).workflow_id == "wf_standard"
    field, outcome, text = history_items(page)[0]
    assert (field, outcome) == ("workflow", "overruled") and "ranks higher" in text
    htmx = assign(as_admin, cid, HX, field="workflow", dunningPlanId="wf_enterprise").get_data(as_text=True)
    assert 'data-outcome="overruled"' in htmx and "Not saved: owned by api" in outcome_of(htmx)


def test_release_then_edit_succeeds(as_admin, demo):  # type: ignore[no-untyped-def]
    cid = acme_id(demo)
    write_as(demo, "api", dunningPlanId="wf_standard")
    page = as_admin.get(f"/customers/{cid}").get_data(as_text=True)
    assert 'id="release-workflow"' in field_block(page, "workflow")
    confirm = as_admin.get(f"/customers/{cid}/release?field=workflow", headers=HX).get_data(as_text=True)
    consequence = re.search(r'id="release-consequence-workflow"[^>]*>(.*?)</p>', confirm, re.S)
    assert consequence and "api (rank 3) owns this field now" in text_of(consequence.group(1))
    assert "the current value stays" in text_of(consequence.group(1))
    assert 'id="confirm-release-workflow"' in confirm
    token = page_csrf(as_admin, f"/customers/{cid}")
    released = as_admin.post(f"/customers/{cid}/release", data={"csrf_token": token, "field": "workflow"})
    assert released.status_code == 303 and "outcome=released" in released.location
    page = as_admin.get(released.location).get_data(as_text=True)
    assert "Released" in outcome_of(page)
    assert "No source owns this field yet" in text_of(field_block(page, "workflow"))
    assert 'id="release-workflow"' not in page
    field, outcome, text = history_items(page)[0]
    assert (field, outcome) == ("workflow", "released") and "was owned by api" in text
    again = as_admin.post(f"/customers/{cid}/release", data={"csrf_token": token, "field": "workflow"})
    assert again.status_code == 409  # nothing left to release: no second entry
    edited = assign(as_admin, cid, field="workflow", dunningPlanId="wf_enterprise")
    assert "outcome=applied" in edited.location and get_customer(demo, cid).workflow_id == "wf_enterprise"


def test_a_custom_field_can_be_released_and_bad_fields_are_refused(as_admin, demo):  # type: ignore[no-untyped-def]
    cid = acme_id(demo)
    token = page_csrf(as_admin, f"/customers/{cid}")
    answer = as_admin.post(f"/customers/{cid}/release", headers=HX,
                           data={"csrf_token": token, "field": "customFields.segment"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Released" in outcome_of(page)
    assert "No source owns" in text_of(field_block(page, "customFields.segment"))
    not_a_field = as_admin.post(f"/customers/{cid}/release", data={"csrf_token": token, "field": "name"})
    assert not_a_field.status_code == 400
    assert as_admin.get(f"/customers/{cid}/release?field=customFields.nothing").status_code == 404
    assert as_admin.get(f"/customers/{cid}/release").status_code == 400


# -- roles, scope, CSRF, bad input -------------------------------------------------------------


@pytest.mark.parametrize("role", ["as_ops", "as_manager"])
def test_non_admins_get_no_edit_controls_and_a_403_on_post(role, request, demo):  # type: ignore[no-untyped-def]
    client = request.getfixturevalue(role)
    cid = acme_id(demo)
    page = client.get(f"/customers/{cid}").get_data(as_text=True)
    assert "Owned by manual" in text_of(field_block(page, "workflow"))  # the why is for everyone
    assert 'id="edit-workflow"' not in page and 'id="release-' not in page and "/assign" not in page
    before = history_count(demo)
    assert assign(client, cid, field="workflow", dunningPlanId="wf_enterprise").status_code == 403
    token = page_csrf(client, f"/customers/{cid}")
    release = client.post(f"/customers/{cid}/release", data={"csrf_token": token, "field": "workflow"})
    assert release.status_code == 403
    assert client.get(f"/customers/{cid}/edit/workflow").status_code == 403
    assert history_count(demo) == before and get_customer(demo, cid).workflow_id == "wf_card"


def test_an_account_manager_sees_their_customer_and_not_others(as_manager, demo):  # type: ignore[no-untyped-def]
    assert as_manager.get(f"/customers/{acme_id(demo)}").status_code == 200
    globex = get_customer(demo, "external:cus_demo_globex").id
    assert as_manager.get(f"/customers/{globex}").status_code == 404
    assert as_manager.get(f"/customers/{globex}?hpage=2").status_code == 404


def test_a_save_without_the_csrf_token_is_refused_and_writes_nothing(as_admin, demo):  # type: ignore[no-untyped-def]
    cid = acme_id(demo)
    before = history_count(demo)
    answer = as_admin.post(f"/customers/{cid}/assign",
                           data={"field": "workflow", "dunningPlanId": "wf_enterprise"})
    assert answer.status_code == 403 and "expired" in answer.get_data(as_text=True)
    forged = as_admin.post(f"/customers/{cid}/release", data={"field": "workflow", "csrf_token": "forged"})
    assert forged.status_code == 403
    assert history_count(demo) == before and get_customer(demo, cid).workflow_id == "wf_card"


def test_an_unknown_workflow_or_email_is_a_4xx_in_the_form_and_writes_nothing(as_admin, demo):  # type: ignore[no-untyped-def]
    cid = acme_id(demo)
    before = history_count(demo)
    for headers in ({}, HX):
        answer = assign(as_admin, cid, headers, field="workflow", dunningPlanId="wf_nope")
        page = answer.get_data(as_text=True)
        assert answer.status_code == 422
        error = re.search(r'id="error-workflow"[^>]*>(.*?)</div>', page, re.S)
        assert error and "unknown dunningPlanId: wf_nope" in text_of(error.group(1))
        assert 'id="form-workflow"' in page
    answer = assign(as_admin, cid, field="accountManagers",
                    accountManagers=["bob.chen@example.com", "nobody@example.com"])
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "unknown user email(s): nobody@example.com" in page
    assert re.search(r'value="bob.chen@example.com" checked', page)  # the choice is kept to fix it
    short = assign(as_admin, cid, field="accountManagers", accountManagers=["x"])
    assert short.status_code == 422 and "accountManagers/0" in short.get_data(as_text=True)
    assert assign(as_admin, cid, field="name", dunningPlanId="wf_card").status_code == 400
    assert assign(as_admin, cid, field="workflow", colour="red").status_code == 400
    assert history_count(demo) == before
    assert [u.email for u in get_customer(demo, cid).account_managers] == ["alice.martin@example.com"]


# -- the timeline ----------------------------------------------------------------------------------


def add_history(hub, cid: str, rows: list[tuple[str, str | None]]) -> None:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        for cause_type, cause_id in rows:
            uow.session.add(AssignmentHistory(
                customer_id=cid, field="workflow", source="csv", outcome="applied", old_value=None,
                new_value="wf_card", occurred_at=utcnow(), cause_type=cause_type, cause_id=cause_id,
                actor="user:finance.admin@example.com"))
        uow.commit()


def test_each_cause_links_where_it_can_be_seen(as_admin, demo):  # type: ignore[no-untyped-def]
    cid = acme_id(demo)
    add_history(demo, cid, [("import_line", "12:3"), ("bulk_assign", "bulk_job:7"),
                            ("api_request", "req-42"), ("run", "5")])
    history = as_admin.get(f"/customers/{cid}").get_data(as_text=True).split('id="history"')[1]
    assert '<a href="/imports/12">import 12, line 3</a>' in history
    assert '<a href="/customers/bulk/jobs/7">bulk job 7</a>' in history
    assert "API request req-42" in history and '<a href="/runs/5">run #5</a>' in history
    assert "none → Card payers (wf_card)" in text_of(history)
    assert cause_link("page_edit", None, "user:a@example.com").text == "edited on this page by a@example.com"
    assert cause_link("bulk_assign", "req-1", None).text == "bulk assignment through the API, request req-1"
    from_the_list = cause_link("bulk_assign", None, "user:a@example.com")
    assert from_the_list.text == "bulk assignment from the customer list"


def test_the_history_pages_by_fifty_with_validated_parameters(as_admin, demo):  # type: ignore[no-untyped-def]
    cid = acme_id(demo)
    add_history(demo, cid, [("api_request", f"req-{n}") for n in range(60)])
    first = as_admin.get(f"/customers/{cid}").get_data(as_text=True)
    assert len(history_items(first)) == 50 and "API request req-59" in history_items(first)[0][2]
    assert f'href="/customers/{cid}?hpage=2#history-section" rel="next"' in first
    second = as_admin.get(f"/customers/{cid}?hpage=2").get_data(as_text=True)
    assert len(history_items(second)) == 13  # 10 older + the 3 demo decisions
    assert 'rel="prev"' in second and 'rel="next"' not in second
    for bad in ("hpage=0", "hpage=two", "page=2", "outcome=won"):
        answer = as_admin.get(f"/customers/{cid}?{bad}")
        assert answer.status_code == 400, bad


# -- routes -----------------------------------------------------------------------------------------


def endpoint(app, path: str, method: str = "GET") -> str:  # type: ignore[no-untyped-def]
    return app.url_map.bind("localhost").match(path, method=method)[0]


def test_the_edit_routes_resolve_beside_the_page_route(app):  # type: ignore[no-untyped-def]
    page = "pages.customer_page."
    assert endpoint(app, "/customers/external:a/b") == page + "customer_page"
    assert endpoint(app, "/customers/abc/edit/workflow") == page + "edit_field"
    assert endpoint(app, "/customers/external:a/b/edit/accountManagers") == page + "edit_field"
    assert endpoint(app, "/customers/abc/release") == page + "confirm_release"
    assert endpoint(app, "/customers/abc/release", "POST") == page + "release"
    assert endpoint(app, "/customers/external:x/assign", "POST") == page + "assign"
    assert endpoint(app, "/customers") == "pages.customers.customer_list"


def test_the_page_routes_do_not_shadow_the_other_customer_routes(app):  # type: ignore[no-untyped-def]
    """The other pages' routes under /customers/ (export, saved views, bulk) win over <path:ref>:
    checked on a bare app with the routes as they are declared, and on the hub's own map."""
    bare = Flask(__name__)
    bare.register_blueprint(customer_page.bp)
    others = {"/customers/export.csv": "GET", "/customers/views": "GET", "/customers/views/3": "GET",
              "/customers/bulk": "POST", "/customers/bulk/preview": "POST", "/customers/bulk/apply": "POST",
              "/customers/bulk/jobs/4": "GET"}
    for path, method in others.items():
        rule = re.sub(r"/(\d+)$", "/<int:item>", path)
        bare.add_url_rule(rule, f"other{rule}", lambda **_: "", methods=[method])
        assert endpoint(bare, path, method) == f"other{rule}", path
    assert endpoint(bare, "/customers/cus_1/edit/workflow") == "customer_page.edit_field"
    mine = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("pages.customer_page.")}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/customers/") and rule.endpoint not in mine:
            path = re.sub(r"<[^>]+>", "x", re.sub(r"<int:[^>]+>", "1", rule.rule))
            method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
            assert endpoint(app, path, method) == rule.endpoint, path


def test_an_unknown_customer_is_a_404_on_every_route(as_admin, demo):  # type: ignore[no-untyped-def]
    assert as_admin.get("/customers/nobody/edit/workflow").status_code == 404
    assert assign(as_admin, "nobody", field="workflow", dunningPlanId="wf_card").status_code == 404
    with demo.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count(Customer.id))) == 5
