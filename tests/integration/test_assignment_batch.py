"""assign_many() decides, writes and records exactly what assign() does, request by request."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hub.db.models import AssignmentHistory, Customer
from hub.errors import NotFound, ValidationFailed
from hub.services.assignment import AssignmentService, AssignRequest, Cause, FieldWrite
from tests.factories import make_customer, make_user, make_workflow

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SOURCES = ["salesforce", "api", "smart_rule", "csv", "manual"]
WORKFLOWS = ["wf_1", "wf_2"]
EMAILS = ["a@example.com", "b@example.com", "c@example.com"]
_names = itertools.count()


def a_write():  # type: ignore[no-untyped-def]
    emails = st.lists(st.sampled_from(EMAILS), max_size=3, unique=True).map(tuple)
    return st.one_of(
        st.builds(FieldWrite, st.just("workflow"), st.sampled_from([*WORKFLOWS, None])),
        st.builds(FieldWrite, st.just("account_managers"), emails),
        st.builds(FieldWrite, st.just("account_managers"), st.sampled_from(EMAILS),
                  st.sampled_from(["add", "remove"])),
        st.builds(FieldWrite, st.just("custom_fields.tier"), st.sampled_from(["gold", "silver", None])),
    )


def a_batch():  # type: ignore[no-untyped-def]
    """Earlier writes (one at a time), then a batch: (customer 0 or 1, its writes), one source."""
    earlier = st.lists(st.tuples(st.integers(0, 1), a_write(), st.sampled_from(SOURCES),
                                 st.integers(-3, 3)), max_size=6)
    requests = st.lists(st.tuples(st.integers(0, 1), st.lists(a_write(), min_size=1, max_size=3)),
                        min_size=1, max_size=5)
    return st.tuples(earlier, requests, st.sampled_from(SOURCES), st.integers(-3, 3))


def snapshot(hub, customer_id):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        c = uow.session.get(Customer, customer_id)
        state = (c.workflow_id, [u.email for u in c.account_managers], dict(c.custom_fields),
                 sorted((a.field, a.source, a.changed_at) for a in c.assignments))
        history = [(h.field, h.source, h.outcome, h.reason, h.old_value, h.new_value, h.owner_source,
                    h.occurred_at, h.cause_type, h.cause_id, h.actor)
                   for h in uow.session.scalars(select(AssignmentHistory).where(
                       AssignmentHistory.customer_id == customer_id).order_by(AssignmentHistory.id))]
        return state, history


@pytest.fixture
def directory(hub):  # type: ignore[no-untyped-def]
    for wid in WORKFLOWS:
        make_workflow(hub, wid, wid)
    for email in EMAILS:
        make_user(hub, email)
    return hub


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=a_batch())
def test_assign_many_matches_assign_one_request_at_a_time(directory, case):  # type: ignore[no-untyped-def]
    hub, (earlier, requests, source, minutes) = directory, case
    one = [make_customer(hub, f"one_{next(_names)}") for _ in range(2)]
    many = [make_customer(hub, f"many_{next(_names)}") for _ in range(2)]
    for who, write, earlier_source, offset in earlier:  # the same past for both pairs
        for pair in (one, many):
            with hub.uow() as uow:
                AssignmentService(uow.session).assign(
                    pair[who], [write], source=earlier_source, occurred_at=T0 + timedelta(minutes=offset),
                    cause=Cause("earlier"))
                uow.commit()
    at = T0 + timedelta(minutes=minutes)
    with hub.uow() as uow:
        service = AssignmentService(uow.session)
        singles = [service.assign(one[who], writes, source=source, occurred_at=at,
                                  cause=Cause("line", str(n), "pytest"))
                   for n, (who, writes) in enumerate(requests)]
        uow.commit()
    with hub.uow() as uow:
        batched = AssignmentService(uow.session).assign_many(
            [AssignRequest(many[who], writes, Cause("line", str(n), "pytest"))
             for n, (who, writes) in enumerate(requests)], source=source, occurred_at=at)
        uow.commit()
    assert batched == singles
    for single_id, batch_id in zip(one, many, strict=True):
        assert snapshot(hub, batch_id) == snapshot(hub, single_id)


def test_assign_many_refuses_what_assign_refuses(directory):  # type: ignore[no-untyped-def]
    hub, cid = directory, make_customer(directory, "cus_1")
    cases = [
        ([FieldWrite("workflow", "wf_missing")], "csv", ValidationFailed),
        ([FieldWrite("account_managers", ("ghost@example.com",))], "csv", ValidationFailed),
        ([FieldWrite("workflow", "wf_1")], "nobody", ValidationFailed),
    ]
    for writes, source, error in cases:
        with hub.uow() as uow, pytest.raises(error):
            AssignmentService(uow.session).assign_many(
                [AssignRequest(cid, writes, Cause("t"))], source=source, occurred_at=T0)
    with hub.uow() as uow, pytest.raises(NotFound):
        AssignmentService(uow.session).assign_many(
            [AssignRequest("no-such-id", [FieldWrite("workflow", "wf_1")], Cause("t"))],
            source="csv", occurred_at=T0)


def test_assign_many_creates_salesforce_owners_like_assign(directory):  # type: ignore[no-untyped-def]
    hub, cid = directory, make_customer(directory, "cus_1")
    with hub.uow() as uow:
        [[outcome]] = AssignmentService(uow.session).assign_many(
            [AssignRequest(cid, [FieldWrite("account_managers", ("New.Owner@example.com",))],
                           Cause("t"))], source="salesforce", occurred_at=T0)
        uow.commit()
    assert outcome.outcome == "applied"
    assert snapshot(hub, cid)[0][1] == ["new.owner@example.com"]


def test_objects_loaded_before_the_batch_show_its_result(directory):  # type: ignore[no-untyped-def]
    hub, cid = directory, make_customer(directory, "cus_1")
    with hub.uow() as uow:
        loaded = uow.session.get(Customer, cid)
        assert loaded.workflow_id is None
        AssignmentService(uow.session).assign_many(
            [AssignRequest(cid, [FieldWrite("workflow", "wf_1")], Cause("t"))],
            source="csv", occurred_at=T0)
        assert loaded.workflow_id == "wf_1" and [a.source for a in loaded.assignments] == ["csv"]
