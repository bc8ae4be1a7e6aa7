"""Bulk actions from the customer list through Flask's test client, on the demo data: the form,
the confirmation (with the customer a higher-ranked source owns), the result per outcome, account
managers replace/add/remove, ticked rows vs all matching, refusals, roles, CSRF and the job path."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.db.models import AssignmentHistory, BulkAssignJob, Customer
from hub.db.types import utcnow
from hub.queue import RUN_BULK_ASSIGN_JOB
from hub.services.assignment import AssignmentService, Cause, FieldWrite
from hub.services.directory import bulk_jobs
from tests.pages.conftest import page_csrf

ACME, GLOBEX, INITECH, UMBRELLA, HOOLI = ("cus_demo_acme", "cus_demo_globex", "cus_demo_initech",
                                          "cus_demo_umbrella", "cus_demo_hooli")


@pytest.fixture
def api_owns_acme(demo):  # type: ignore[no-untyped-def]
    """Acme's workflow set through the API: a manual bulk assignment may not overrule it."""
    with demo.uow() as uow:
        acme = uow.session.scalar(select(Customer).where(Customer.external_id == ACME))
        AssignmentService(uow.session).assign(acme.id, [FieldWrite("workflow", "wf_enterprise")],
                                              source="api", occurred_at=utcnow() - timedelta(hours=1),
                                              cause=Cause("api_request", actor="key:test"))
        uow.commit()
    return demo


def post(client, path: str, **fields):  # type: ignore[no-untyped-def]
    data = {"csrf_token": page_csrf(client, "/customers"), **fields}
    return client.post(path, data=data)


def workflow_change(**fields) -> dict:  # type: ignore[no-untyped-def]
    return {"filter": "", "all_matching": "1", "action": "workflow", "workflow": "wf_standard", **fields}


def workflows(hub) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        return dict(uow.session.execute(select(Customer.external_id, Customer.workflow_id)).tuples().all())


def managers(hub) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        return {c.external_id: [u.email for u in c.account_managers]
                for c in uow.session.scalars(select(Customer)).unique()}


def outcome_counts(html: str, section: str) -> dict[str, int]:
    """The data-outcome/data-count hooks inside the section with this id."""
    found = re.search(rf'<section id="{section}".*?</section>', html, re.S)
    assert found, f"no section #{section}"
    return {m[0]: int(m[1]) for m in re.findall(r'data-outcome="(\w+)" data-count="(\d+)"', found.group(0))}


def owners(html: str) -> dict[str, int]:
    return {m[0]: int(m[1]) for m in re.findall(r'data-owner="(\w+)" data-count="(\d+)"', html)}


def test_the_form_counts_the_selection_and_offers_workflows(as_admin, demo):  # type: ignore[no-untyped-def]
    answer = post(as_admin, "/customers/bulk", filter="cf.segment=smb", all_matching="1", action="workflow")
    page = answer.get_data(as_text=True)

    assert answer.status_code == 200
    assert 'id="bulk-matched" data-count="2"' in page  # acme and umbrella are smb
    assert 'id="bulk-workflow"' in page
    assert '<option value="wf_standard">Standard (wf_standard)</option>' in page
    assert 'value="__clear__"' in page and 'id="bulk-preview-go"' in page
    assert '<input type="hidden" name="filter" value="cf.segment=smb">' in page
    assert 'href="/customers?cf.segment=smb"' in page  # cancel goes back to the filtered list


def test_the_managers_form_offers_modes_and_users(as_admin, demo):  # type: ignore[no-untyped-def]
    answer = post(as_admin, "/customers/bulk", filter="", ids=[ACME, HOOLI], action="managers")
    page = answer.get_data(as_text=True)

    assert 'id="bulk-matched" data-count="2"' in page
    for mode in ("replace", "add", "remove"):
        assert f'id="bulk-mode-{mode}"' in page
    assert 'id="bulk-managers"' in page and '<option value="bob.chen@example.com">' in page
    assert page.count('name="ids"') == 2 and 'name="all_matching"' not in page


def test_the_preview_warns_about_the_customer_the_api_owns_and_writes_nothing(as_admin, api_owns_acme):  # type: ignore[no-untyped-def]
    before = workflows(api_owns_acme)
    answer = post(as_admin, "/customers/bulk/preview", **workflow_change())
    page = answer.get_data(as_text=True)

    assert answer.status_code == 200, page
    assert outcome_counts(page, "bulk-preview") == {"applied": 3, "unchanged": 1, "overruled": 1, "stale": 0}
    assert owners(page) == {"api": 1}
    words = re.sub(r'<span class="count">(\d+)</span>', r"\1", page)
    assert "1 customer: workflow owned by <strong>api</strong>" in words
    assert 'id="bulk-changing" data-count="3"' in page and 'id="bulk-selected" data-count="5"' in page
    assert f'data-customer="{ACME}"' in page  # named among the refused
    assert 'id="bulk-confirm"' in page and 'href="/customers"' in page
    assert workflows(api_owns_acme) == before


def test_applying_reports_the_overruled_customer_and_leaves_it_unchanged(as_admin, api_owns_acme):  # type: ignore[no-untyped-def]
    answer = post(as_admin, "/customers/bulk/apply", **workflow_change())
    page = answer.get_data(as_text=True)

    assert answer.status_code == 200, page
    assert outcome_counts(page, "bulk-result") == {"applied": 3, "unchanged": 1, "overruled": 1, "stale": 0}
    assert owners(page) == {"api": 1}
    assert workflows(api_owns_acme) == {ACME: "wf_enterprise", GLOBEX: "wf_standard", INITECH: "wf_standard",
                                        UMBRELLA: "wf_standard", HOOLI: "wf_standard"}
    with api_owns_acme.uow() as uow:
        history = uow.session.scalars(select(AssignmentHistory).where(
            AssignmentHistory.cause_type == "bulk_assign")).all()
    assert len(history) == 5
    assert {(h.source, h.actor) for h in history} == {("manual", "user:finance.admin@example.com")}
    assert sorted(h.outcome for h in history) == ["applied"] * 3 + ["overruled", "unchanged"]
    assert [h.owner_source for h in history if h.outcome == "overruled"] == ["api"]


def test_clearing_the_workflow_of_ticked_rows(as_admin, demo):  # type: ignore[no-untyped-def]
    answer = post(as_admin, "/customers/bulk/apply", filter="q=acme", ids=[GLOBEX, HOOLI], action="workflow",
                  workflow="__clear__")

    assert outcome_counts(answer.get_data(as_text=True), "bulk-result")["applied"] == 2
    assert 'href="/customers?q=acme"' in answer.get_data(as_text=True)
    found = workflows(demo)
    assert found[GLOBEX] is None and found[HOOLI] is None and found[ACME] == "wf_card"


def test_ticked_rows_only_change_those_rows_while_all_matching_follows_the_filter(as_admin, demo):  # type: ignore[no-untyped-def]
    post(as_admin, "/customers/bulk/apply", filter="cf.segment=smb", ids=[UMBRELLA], action="workflow",
         workflow="wf_net_terms")
    assert [k for k, v in workflows(demo).items() if v == "wf_net_terms"] == [UMBRELLA]

    post(as_admin, "/customers/bulk/apply", filter="cf.segment=smb", all_matching="1", action="workflow",
         workflow="wf_enterprise")
    assert sorted(k for k, v in workflows(demo).items() if v == "wf_enterprise") == [ACME, UMBRELLA]


@pytest.mark.parametrize(("mode", "emails", "expected_initech", "expected_hooli", "counts"), [
    ("add", ["bob.chen@example.com"], ["alice.martin@example.com", "bob.chen@example.com",
                                       "carla.diaz@example.com"], ["bob.chen@example.com"],
     {"applied": 2, "unchanged": 0}),
    ("remove", ["alice.martin@example.com", "bob.chen@example.com"], ["carla.diaz@example.com"], [],
     {"applied": 1, "unchanged": 1}),
    ("replace", ["collections@example.com"], ["collections@example.com"], ["collections@example.com"],
     {"applied": 2, "unchanged": 0}),
    ("replace", [], [], [], {"applied": 1, "unchanged": 1}),
])
def test_account_managers_replace_add_and_remove(  # type: ignore[no-untyped-def]
        as_admin, demo, mode, emails, expected_initech, expected_hooli, counts):
    fields = {"filter": "", "ids": [INITECH, HOOLI], "action": "managers", "mode": mode, "managers": emails}
    preview = outcome_counts(post(as_admin, "/customers/bulk/preview", **fields).get_data(as_text=True),
                             "bulk-preview")
    result = outcome_counts(post(as_admin, "/customers/bulk/apply", **fields).get_data(as_text=True),
                            "bulk-result")

    assert {k: preview[k] for k in counts} == counts == {k: result[k] for k in counts}
    found = managers(demo)
    assert (found[INITECH], found[HOOLI]) == (expected_initech, expected_hooli)
    assert found[ACME] == ["alice.martin@example.com"]  # not selected


@pytest.mark.parametrize("fields", [
    {"filter": "", "action": "workflow"},  # neither ticked rows nor all matching
    {"filter": "q=nobody-has-this-name", "all_matching": "1", "action": "workflow"},
])
def test_an_empty_selection_is_refused(as_admin, demo, fields):  # type: ignore[no-untyped-def]
    for path in ("/customers/bulk", "/customers/bulk/preview", "/customers/bulk/apply"):
        answer = post(as_admin, path, **fields, workflow="wf_standard")
        assert answer.status_code == 422, path
        assert "no customer" in answer.get_data(as_text=True).lower()


@pytest.mark.parametrize(("fields", "status", "says"), [
    ({"action": "delete"}, 400, "action"),
    ({"colour": "red"}, 400, "colour"),
    ({"filter": "segment=smb"}, 400, "segment"),  # a filter typo never widens the selection
    ({"workflow": "wf_missing"}, 422, "wf_missing"),
    ({"workflow": ""}, 422, "choose a workflow"),
    ({"action": "managers", "mode": "add", "managers": ["nobody@example.com"]}, 422, "nobody@example.com"),
    ({"action": "managers", "mode": "add"}, 422, "at least one"),
    ({"action": "managers"}, 422, "replace, add or remove"),
])
def test_bad_input_is_a_clear_4xx(as_admin, demo, fields, status, says):  # type: ignore[no-untyped-def]
    before = workflows(demo)
    for path in ("/customers/bulk/preview", "/customers/bulk/apply"):
        answer = post(as_admin, path, **workflow_change(**fields))
        assert answer.status_code == status, (path, answer.get_data(as_text=True))
        assert says in answer.get_data(as_text=True)
    assert workflows(demo) == before


def test_only_admins_may_use_bulk_actions(app, as_ops, as_manager, demo):  # type: ignore[no-untyped-def]
    with demo.uow() as uow:  # a job to look at

        uow.session.add(BulkAssignJob(selection={}, writes=[], requested_by="user:x"))
        uow.commit()
    for client in (as_ops, as_manager):
        for path in ("/customers/bulk", "/customers/bulk/preview", "/customers/bulk/apply",
                     "/customers/bulk/jobs/1/cancel"):
            assert post(client, path, **workflow_change()).status_code == 403, path
        assert client.get("/customers/bulk/jobs/1").status_code == 403
    assert workflows(demo)[HOOLI] == "wf_standard" and workflows(demo)[ACME] == "wf_card"


def test_a_post_without_the_csrf_token_is_refused(as_admin, demo):  # type: ignore[no-untyped-def]
    before = workflows(demo)
    answer = as_admin.post("/customers/bulk/apply", data=workflow_change(workflow="wf_enterprise"))

    assert answer.status_code == 403
    assert workflows(demo) == before


def test_a_large_selection_runs_as_a_job_with_progress(as_admin, api_owns_acme, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(bulk_jobs, "INLINE_LIMIT", 1)
    preview = post(as_admin, "/customers/bulk/preview", **workflow_change()).get_data(as_text=True)
    assert "runs in the background" in preview

    started = post(as_admin, "/customers/bulk/apply", **workflow_change(filter="cf.segment=smb"))
    assert started.status_code == 303
    job_path = started.headers["Location"]
    job_id = int(job_path.rsplit("/", 1)[1])
    assert job_path == f"/customers/bulk/jobs/{job_id}"
    assert api_owns_acme.queue.sent[-1] == (RUN_BULK_ASSIGN_JOB, (job_id,))
    assert workflows(api_owns_acme)[UMBRELLA] == "wf_bad_payers"  # nothing applied in the request

    queued = as_admin.get(job_path).get_data(as_text=True)
    assert 'id="bulk-job"' in queued and f'hx-get="{job_path}" hx-trigger="every 1s"' in queued
    assert 'aria-live="polite"' in queued and 'id="bulk-job-cancel"' in queued

    assert bulk_jobs.run_bulk_assign_job(api_owns_acme, job_id) == "done"
    fragment = as_admin.get(job_path, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment
    assert 'data-status="done"' in fragment and "hx-trigger" not in fragment  # polling stops
    assert 'data-processed="2" data-total="2"' in fragment  # acme and umbrella are smb
    assert outcome_counts(fragment, "bulk-job") == {"applied": 1, "unchanged": 0, "overruled": 1, "stale": 0}
    assert owners(fragment) == {"api": 1}
    assert 'href="/customers?cf.segment=smb"' in fragment
    assert workflows(api_owns_acme) == {ACME: "wf_enterprise", GLOBEX: "wf_direct_debit",
                                        INITECH: "wf_transfer_check", UMBRELLA: "wf_standard",
                                        HOOLI: "wf_standard"}
    with api_owns_acme.uow() as uow:
        refs = set(uow.session.scalars(select(AssignmentHistory.cause_id).where(
            AssignmentHistory.cause_type == "bulk_assign")))
    assert refs == {f"bulk_job:{job_id}"}


def test_a_job_can_be_cancelled_from_its_page(as_admin, demo, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(bulk_jobs, "INLINE_LIMIT", 1)
    job_path = post(as_admin, "/customers/bulk/apply", **workflow_change()).headers["Location"]

    cancelled = post(as_admin, f"{job_path}/cancel")
    assert cancelled.status_code == 303 and cancelled.headers["Location"] == job_path
    page = as_admin.get(job_path).get_data(as_text=True)
    assert 'data-status="cancelled"' in page and "hx-trigger" not in page and "bulk-job-cancel" not in page
    assert bulk_jobs.run_bulk_assign_job(demo, int(job_path.rsplit("/", 1)[1])) == "cancelled"
    assert workflows(demo)[GLOBEX] == "wf_direct_debit"


def test_an_unknown_job_is_a_404(as_admin, demo):  # type: ignore[no-untyped-def]
    assert as_admin.get("/customers/bulk/jobs/999").status_code == 404
    assert post(as_admin, "/customers/bulk/jobs/999/cancel").status_code == 404
