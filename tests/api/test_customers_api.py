"""The customer API as a new user meets it: precedence outcomes, auth, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.db.models import AssignmentHistory, Customer
from tests.factories import make_customer, make_user, make_workflow


@pytest.fixture
def seeded(hub):  # type: ignore[no-untyped-def]
    make_workflow(hub, "wf_card", "Card payers")
    make_workflow(hub, "wf_std", "Standard")
    make_user(hub, "ann@example.com", "Ann")
    make_user(hub, "bob@example.com", "Bob")
    make_customer(hub, "cus_1", name="Acme")
    make_customer(hub, "cus_2", name="Globex")
    return hub


def put(client, headers, ref, body):  # type: ignore[no-untyped-def]
    return client.put(f"/api/v1/customers/{ref}", json=body, headers=headers)


def test_api_owned_workflow_refuses_csv_manual_and_salesforce(client, admin, seeded):  # type: ignore[no-untyped-def]
    r = put(client, admin, "external:cus_1",
            {"dunningPlanId": "wf_card", "occurredAt": "2026-11-20T10:00:00Z"})
    assert r.status_code == 200
    assert r.json["outcomes"]["dunningPlanId"]["outcome"] == "applied"
    for source in ("csv", "manual"):
        r = put(client, admin, "external:cus_1", {"dunningPlanId": "wf_std", "source": source})
        assert r.json["outcomes"]["dunningPlanId"] == {
            **r.json["outcomes"]["dunningPlanId"], "outcome": "overruled", "owner": "api"}
    r = put(client, admin, "external:cus_1", {"dunningPlanId": "wf_std", "source": "salesforce"})
    assert r.json["outcomes"]["dunningPlanId"]["outcome"] == "refused"
    r = put(client, admin, "external:cus_1",
            {"dunningPlanId": "wf_std", "occurredAt": "2026-11-20T09:00:00Z"})
    assert r.json["outcomes"]["dunningPlanId"]["outcome"] == "stale"
    assert r.json["customer"]["dunningPlanId"] == "wf_card"
    history = client.get("/api/v1/customers/external:cus_1/history", headers=admin).json["history"]
    assert [h["outcome"] for h in history] == ["stale", "refused", "overruled", "overruled", "applied"]
    assert [h["source"] for h in history] == ["api", "salesforce", "manual", "csv", "api"]
    assert all(h["reason"] and h["cause"]["actor"] == "key:bootstrap-admin" for h in history)


def test_get_by_hub_id_and_external_id(client, admin, seeded):  # type: ignore[no-untyped-def]
    by_ext = client.get("/api/v1/customers/external:cus_2", headers=admin).json
    by_id = client.get(f"/api/v1/customers/{by_ext['id']}", headers=admin).json
    assert by_id["externalId"] == "cus_2" and by_id["name"] == "Globex"


def test_upsert_creates_then_updates(client, admin, seeded):  # type: ignore[no-untyped-def]
    body = {"externalId": "cus_new", "name": "New Co", "accountManagers": ["ANN@example.com"],
            "customFields": {"segment": "smb"}}
    r = client.post("/api/v1/customers", json=body, headers=admin)
    assert r.status_code == 201 and r.json["customer"]["accountManagers"] == ["ann@example.com"]
    r = client.post("/api/v1/customers", json={**body, "name": "New Co Ltd"}, headers=admin)
    assert r.status_code == 200 and r.json["customer"]["name"] == "New Co Ltd"
    assert r.json["outcomes"]["accountManagers"]["outcome"] == "unchanged"


def test_list_filters_and_paging(client, admin, seeded):  # type: ignore[no-untyped-def]
    put(client, admin, "external:cus_1", {"dunningPlanId": "wf_card", "accountManagers": ["ann@example.com"],
                                          "customFields": {"segment": "enterprise"}})
    page = client.get("/api/v1/customers?limit=1", headers=admin).json
    assert page["total"] == 2 and len(page["customers"]) == 1 and page["offset"] == 0
    for query in ("dunningPlanId=wf_card", "workflow=Card%20payers", "accountManager=ann@example.com",
                  "customFields.segment=enterprise", "q=acm"):
        found = client.get(f"/api/v1/customers?{query}", headers=admin).json
        assert [c["externalId"] for c in found["customers"]] == ["cus_1"], query


def test_bulk_assign_by_filter_is_manual(client, admin, seeded):  # type: ignore[no-untyped-def]
    put(client, admin, "external:cus_1", {"dunningPlanId": "wf_card"})
    r = client.post("/api/v1/customers/bulk-assign", headers=admin,
                    json={"filter": {}, "all": True, "dunningPlanId": "wf_std"})
    assert r.status_code == 200
    assert r.json == {**r.json, "matched": 2, "outcomes": {"overruled": 1, "applied": 1}}


def test_bulk_assign_refuses_an_empty_filter_unless_all_is_said(client, admin, seeded):  # type: ignore[no-untyped-def]
    for empty in ({}, {"q": ""}, {"externalIds": []}):
        r = client.post("/api/v1/customers/bulk-assign", headers=admin,
                        json={"filter": empty, "dunningPlanId": "wf_std"})
        assert r.status_code == 422 and r.json["error"]["code"] == "filter_empty"
    with seeded.uow() as uow:
        assert {c.workflow_id for c in uow.session.scalars(select(Customer))} != {"wf_std"}


def test_bulk_assign_dry_run_reports_who_would_overrule_and_changes_nothing(client, admin, seeded):  # type: ignore[no-untyped-def]
    put(client, admin, "external:cus_1", {"dunningPlanId": "wf_card"})  # now owned by the API
    before = client.get("/api/v1/customers/external:cus_2", headers=admin).json
    r = client.post("/api/v1/customers/bulk-assign", headers=admin,
                    json={"filter": {}, "all": True, "workflow": "Standard", "dryRun": True})
    assert r.status_code == 200 and r.json["dryRun"] is True
    assert r.json["outcomes"] == {"overruled": 1, "applied": 1}
    [overruled] = r.json["overruled"]
    assert overruled["field"] == "dunningPlanId" and overruled["owner"] == "api"
    assert client.get("/api/v1/customers/external:cus_2", headers=admin).json == before
    with seeded.uow() as uow:
        assert uow.session.scalar(select(func.count(AssignmentHistory.id)).where(
            AssignmentHistory.cause_type == "bulk_assign")) == 0


def test_bulk_assign_takes_a_workflow_by_name(client, admin, seeded):  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/customers/bulk-assign", headers=admin,
                    json={"filter": {"externalIds": ["cus_2"]}, "workflow": "Standard"})
    assert r.status_code == 200 and r.json["outcomes"] == {"applied": 1}
    assert client.get("/api/v1/customers/external:cus_2", headers=admin).json["workflowName"] == "Standard"
    unknown = client.post("/api/v1/customers/bulk-assign", headers=admin,
                          json={"filter": {"externalIds": ["cus_2"]}, "workflow": "No such"})
    assert unknown.status_code == 422 and unknown.json["error"]["code"] == "unknown_workflow"


def test_release_lets_a_manual_edit_through(client, admin, seeded):  # type: ignore[no-untyped-def]
    put(client, admin, "external:cus_1", {"dunningPlanId": "wf_card"})
    r = client.post("/api/v1/customers/external:cus_1/release", json={"field": "dunningPlanId"},
                    headers=admin)
    assert r.status_code == 200
    r = put(client, admin, "external:cus_1", {"dunningPlanId": "wf_std", "source": "manual"})
    assert r.json["outcomes"]["dunningPlanId"]["outcome"] == "applied"


def test_account_manager_key_sees_only_its_customers_and_cannot_write(client, admin, seeded, runner):  # type: ignore[no-untyped-def]
    put(client, admin, "external:cus_1", {"accountManagers": ["ann@example.com"]})
    result = runner.invoke(args=["keys", "create", "--name", "ann", "--role", "account_manager",
                                 "--user", "ann@example.com"])
    assert result.exit_code == 0, result.output
    ann = {"Authorization": f"Bearer {result.stdout.strip().splitlines()[0]}"}
    listed = client.get("/api/v1/customers", headers=ann).json
    assert [c["externalId"] for c in listed["customers"]] == ["cus_1"] and listed["total"] == 1
    assert client.get("/api/v1/customers/external:cus_2", headers=ann).status_code == 404
    assert put(client, ann, "external:cus_1", {"dunningPlanId": "wf_std"}).status_code == 403
    assert client.post("/api/v1/workflows", json={"name": "X"}, headers=ann).status_code == 403


def test_no_key_or_a_wrong_key_is_401(client, seeded):  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/customers")
    assert r.status_code == 401 and r.json["error"]["code"] == "authentication_required"
    r = client.get("/api/v1/customers", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_unknown_workflow_or_email_is_422_naming_it_and_changes_nothing(client, admin, seeded):  # type: ignore[no-untyped-def]
    r = put(client, admin, "external:cus_1", {"dunningPlanId": "wf_nope", "customFields": {"a": "b"}})
    assert r.status_code == 422 and "wf_nope" in r.json["error"]["message"]
    r = put(client, admin, "external:cus_1", {"accountManagers": ["ghost@example.com"]})
    assert r.status_code == 422 and "ghost@example.com" in r.json["error"]["message"]
    customer = client.get("/api/v1/customers/external:cus_1", headers=admin).json
    assert customer["customFields"] == {} and customer["accountManagers"] == []
    assert client.get("/api/v1/customers/external:cus_1/history", headers=admin).json["history"] == []


def test_malformed_json_is_400(client, admin, seeded):  # type: ignore[no-untyped-def]
    r = client.put("/api/v1/customers/external:cus_1", data="{not json", headers=admin,
                   content_type="application/json")
    assert r.status_code == 400 and r.json["error"]["code"] == "malformed_body"


def test_schema_violations_are_422_with_every_problem(client, admin, seeded):  # type: ignore[no-untyped-def]
    r = put(client, admin, "external:cus_1", {"dunningPlanId": 5, "bogus": 1, "source": "robot"})
    assert r.status_code == 422
    assert len(r.json["error"]["details"]) == 3


def test_unknown_customer_is_404(client, admin, seeded):  # type: ignore[no-untyped-def]
    r = put(client, admin, "external:nope", {"dunningPlanId": "wf_card"})
    assert r.status_code == 404 and r.json["error"]["code"] == "customer_not_found"


def test_body_over_one_mib_is_413(client, admin, seeded):  # type: ignore[no-untyped-def]
    big = b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    r = client.put("/api/v1/customers/external:cus_1", data=big, headers=admin,
                   content_type="application/json")
    assert r.status_code == 413 and r.json["error"]["code"] == "payload_too_large"


def test_workflows_and_users_endpoints(client, admin, seeded):  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/workflows", json={"name": "Legal\u00a0 hold", "id": "wf_legal"}, headers=admin)
    assert r.status_code == 201 and r.json == {**r.json, "dunningPlanId": "wf_legal", "name": "Legal hold"}
    assert client.post("/api/v1/workflows", json={"name": "Legal hold"}, headers=admin).status_code == 409
    # the same rule as the workflows page: names differing only in case are one name to people
    twin = client.post("/api/v1/workflows", json={"name": "legal HOLD"}, headers=admin)
    assert twin.status_code == 409 and "Legal hold" in twin.json["error"]["message"]
    names = [w["name"] for w in client.get("/api/v1/workflows", headers=admin).json["workflows"]]
    assert "Legal hold" in names
    r = client.post("/api/v1/users", json={"email": "Cy@Example.com", "name": "Cy"}, headers=admin)
    assert r.status_code == 201 and r.json["email"] == "cy@example.com"
    assert client.post("/api/v1/users", json={"email": "not-an-email"}, headers=admin).status_code == 422


def test_healthz_reports_database_and_broker(client, queue, settings):  # type: ignore[no-untyped-def]
    Path(settings.recipes_dir).mkdir()  # an empty recipes folder loads; a missing one is refused
    assert client.get("/healthz").json == {"status": "ok", "database": "ok", "broker": "ok",
                                           "connections": {}, "recipes": "ok"}
    queue.up = False
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json["broker"].startswith("down")


def test_export_csv_escapes_formulas_and_round_trips_columns(client, admin, seeded):  # type: ignore[no-untyped-def]
    put(client, admin, "external:cus_1", {"dunningPlanId": "wf_card",
                                          "accountManagers": ["ann@example.com", "bob@example.com"]})
    client.post("/api/v1/customers", json={"externalId": "=HYPERLINK(1)", "name": "@evil"}, headers=admin)
    r = client.get("/api/v1/customers/export.csv", headers=admin)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.data.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == "External Id,Name,Account manager email,Workflow name"
    assert "'=HYPERLINK(1),'@evil,," in lines
    assert 'cus_1,Acme,"ann@example.com, bob@example.com",Card payers' in lines
    filtered = client.get("/api/v1/customers/export.csv?dunningPlanId=wf_card", headers=admin)
    assert filtered.data.decode("utf-8-sig").count("\r\n") == 2


def test_export_is_whole_with_its_length_or_a_clear_error(client, admin, seeded, app):  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/customers/export.csv", headers=admin)
    assert r.status_code == 200 and r.content_length == len(r.data) > 0
    slots = app.extensions["export_slots"]
    with slots.held():  # the one export slot of this process (HUB_EXPORTS_AT_ONCE=1) is taken
        busy = client.get("/api/v1/customers/export.csv", headers=admin)
    assert busy.status_code == 429 and busy.json["error"]["code"] == "too_many_requests"
    assert 2 <= int(busy.headers["Retry-After"]) <= 8  # spread, so a refused herd does not return at once
    assert client.get("/api/v1/customers/export.csv", headers=admin).status_code == 200  # slots free again
