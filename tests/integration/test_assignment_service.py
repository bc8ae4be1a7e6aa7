"""The assignment service against a real database: precedence, staleness, refusals, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hub.db.models import AssignmentHistory, Customer, User
from hub.errors import NotFound, ValidationFailed
from hub.services.assignment import AssignmentService, Cause, FieldWrite
from tests.factories import make_customer, make_user, make_workflow

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
CAUSE = Cause(kind="test", ref="t-1", actor="pytest")


@pytest.fixture
def setup(hub):  # type: ignore[no-untyped-def]
    make_workflow(hub, "wf_a", "Workflow A")
    make_workflow(hub, "wf_b", "Workflow B")
    make_user(hub, "ann@example.com")
    make_user(hub, "bea@example.com")
    return make_customer(hub, "cus_1")


def assign(hub, cid, writes, source, at, cause=CAUSE):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        outcomes = AssignmentService(uow.session).assign(
            cid, writes, source=source, occurred_at=at, cause=cause
        )
        uow.commit()
    return {o.field: o for o in outcomes}


def state(hub, cid):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        c = uow.session.get(Customer, cid)
        owners = {a.field: (a.source, a.changed_at) for a in c.assignments}
        return c.workflow_id, [u.email for u in c.account_managers], dict(c.custom_fields), owners


def test_higher_rank_overrules_lower_field_by_field(hub, setup):  # type: ignore[no-untyped-def]
    cid = setup
    assert assign(hub, cid, [FieldWrite("workflow", "wf_a")], "api", T0)["workflow"].outcome == "applied"
    out = assign(hub, cid, [FieldWrite("workflow", "wf_b"), FieldWrite("custom_fields.tier", "gold")],
                 "csv", T0 + timedelta(hours=1))
    assert out["workflow"].outcome == "overruled"
    assert out["workflow"].owner == "api"
    assert out["custom_fields.tier"].outcome == "applied"  # precedence is per field
    workflow, _, fields, owners = state(hub, cid)
    assert workflow == "wf_a" and fields == {"tier": "gold"}
    assert owners["workflow"][0] == "api" and owners["custom_fields.tier"][0] == "csv"


def test_same_rank_older_write_is_stale_newer_is_applied(hub, setup):  # type: ignore[no-untyped-def]
    cid = setup
    assign(hub, cid, [FieldWrite("workflow", "wf_a")], "api", T0)
    assert assign(hub, cid, [FieldWrite("workflow", "wf_b")], "api", T0 - timedelta(seconds=1))[
        "workflow"].outcome == "stale"
    assert assign(hub, cid, [FieldWrite("workflow", "wf_b")], "api", T0)["workflow"].outcome == "applied"
    assert state(hub, cid)[0] == "wf_b"


def test_salesforce_may_write_account_managers_only(hub, setup):  # type: ignore[no-untyped-def]
    cid = setup
    out = assign(hub, cid, [FieldWrite("workflow", "wf_a"),
                            FieldWrite("account_managers", ("ann@example.com",))], "salesforce", T0)
    assert out["workflow"].outcome == "refused"
    assert out["account_managers"].outcome == "applied"
    # and now nobody below salesforce changes the managers
    assert assign(hub, cid, [FieldWrite("account_managers", ("bea@example.com",))], "api",
                  T0 + timedelta(days=1))["account_managers"].outcome == "overruled"
    assert state(hub, cid)[1] == ["ann@example.com"]


def test_writing_the_current_value_is_unchanged(hub, setup):  # type: ignore[no-untyped-def]
    cid = setup
    assign(hub, cid, [FieldWrite("workflow", "wf_a")], "csv", T0)
    out = assign(hub, cid, [FieldWrite("workflow", "wf_a")], "api", T0 + timedelta(minutes=1))
    assert out["workflow"].outcome == "unchanged"
    # the higher source now owns it: a later csv write is overruled
    assert state(hub, cid)[3]["workflow"][0] == "api"


def test_add_and_remove_one_account_manager(hub, setup):  # type: ignore[no-untyped-def]
    cid = setup
    assign(hub, cid, [FieldWrite("account_managers", "ann@example.com", op="add")], "api", T0)
    assign(hub, cid, [FieldWrite("account_managers", "BEA@example.com", op="add")], "api", T0)
    assert state(hub, cid)[1] == ["ann@example.com", "bea@example.com"]
    assign(hub, cid, [FieldWrite("account_managers", "ann@example.com", op="remove")], "api", T0)
    assert state(hub, cid)[1] == ["bea@example.com"]


def test_unknown_email_or_workflow_changes_nothing(hub, setup):  # type: ignore[no-untyped-def]
    cid = setup
    with pytest.raises(ValidationFailed, match="nobody@example.com"):
        assign(hub, cid, [FieldWrite("workflow", "wf_a"),
                          FieldWrite("account_managers", ("nobody@example.com",))], "api", T0)
    with pytest.raises(ValidationFailed, match="wf_missing"):
        assign(hub, cid, [FieldWrite("workflow", "wf_missing")], "api", T0)
    assert state(hub, cid)[0] is None
    with hub.uow() as uow:
        assert uow.session.scalar(select(func.count(AssignmentHistory.id))) == 0


def test_salesforce_owner_without_user_creates_a_not_invited_user(hub, setup):  # type: ignore[no-untyped-def]
    cid = setup
    assign(hub, cid, [FieldWrite("account_managers", ("new.owner@example.com",))], "salesforce", T0)
    with hub.uow() as uow:
        user = uow.session.scalar(select(User).where(User.email == "new.owner@example.com"))
        assert user.status == "not_invited"


def test_release_hands_the_field_back_to_the_lowest_rank(hub, setup):  # type: ignore[no-untyped-def]
    cid = setup
    assign(hub, cid, [FieldWrite("workflow", "wf_a")], "api", T0)
    with hub.uow() as uow:
        AssignmentService(uow.session).release(cid, "workflow", cause=CAUSE)
        uow.commit()
    out = assign(hub, cid, [FieldWrite("workflow", "wf_b")], "manual", T0 - timedelta(days=1))
    assert out["workflow"].outcome == "applied"


def test_every_decision_lands_in_history_with_its_cause(hub, setup):  # type: ignore[no-untyped-def]
    cid = setup
    assign(hub, cid, [FieldWrite("workflow", "wf_a")], "api", T0, Cause("run", "run-7", "recipe x"))
    assign(hub, cid, [FieldWrite("workflow", "wf_b")], "csv", T0, Cause("import_line", "imp-1:3", "k"))
    with hub.uow() as uow:
        rows = uow.session.scalars(select(AssignmentHistory).order_by(AssignmentHistory.id)).all()
        rows = [(r.outcome, r.cause_type, r.cause_id, r.owner_source, r.new_value, r.reason)
                for r in rows]
    assert [r[:3] for r in rows] == [
        ("applied", "run", "run-7"), ("overruled", "import_line", "imp-1:3")]
    assert rows[1][3] == "api" and rows[1][4] == "wf_b"
    assert "ranks higher" in rows[1][5]


def test_unknown_customer_and_bad_source_are_refused(hub, setup):  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound):
        assign(hub, "missing", [FieldWrite("workflow", "wf_a")], "api", T0)
    with pytest.raises(ValidationFailed, match="unknown source"):
        assign(hub, setup, [FieldWrite("workflow", "wf_a")], "robot", T0)


def test_many_custom_fields_are_applied_in_one_pass(hub, setup):  # type: ignore[no-untyped-def]
    """100 custom fields (the API's limit) and a removal in one request: every one judged and
    recorded, the custom fields and the owners each copied once and changed in place, not copied
    once per field (which was N² for N fields)."""
    from hub.services.assignment.state import CustomerState

    cid = setup
    assign(hub, cid, [FieldWrite("custom_fields.old", "x")], "api", T0)
    copies = {"custom_fields": 0, "ownership": 0}
    real_setattr = CustomerState.__setattr__

    def counting_setattr(self, name, value):  # type: ignore[no-untyped-def]
        if name in copies and hasattr(self, "changed"):  # a new dict after loading: a copy
            copies[name] += 1
        real_setattr(self, name, value)

    CustomerState.__setattr__ = counting_setattr  # type: ignore[method-assign]
    try:
        writes = [FieldWrite(f"custom_fields.k{n}", f"v{n}") for n in range(99)]
        out = assign(hub, cid, [*writes, FieldWrite("custom_fields.old", None)], "api", T0 + timedelta(hours=1))
    finally:
        CustomerState.__setattr__ = real_setattr  # type: ignore[method-assign]
    assert copies == {"custom_fields": 1, "ownership": 1}
    assert all(o.outcome == "applied" for o in out.values()) and len(out) == 100
    _, _, fields, owners = state(hub, cid)
    assert fields == {f"k{n}": f"v{n}" for n in range(99)}
    assert {f for f in owners if f.startswith("custom_fields.k")} == {f"custom_fields.k{n}" for n in range(99)}
