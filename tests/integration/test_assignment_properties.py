"""Property: whatever order a set of writes is delivered in, the final state is the same."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.db.models import Customer
from hub.services.assignment import AssignmentService, Cause, FieldWrite
from tests.factories import make_customer, make_user, make_workflow

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SOURCES = ["salesforce", "api", "smart_rule", "csv", "manual"]
WORKFLOWS = ["wf_1", "wf_2", "wf_3"]
EMAILS = ["a@example.com", "b@example.com", "c@example.com"]
_counter = itertools.count()


def write_strategy():  # type: ignore[no-untyped-def]
    workflow = st.tuples(st.just("workflow"), st.sampled_from(WORKFLOWS + [None]))
    managers = st.tuples(st.just("account_managers"),
                         st.lists(st.sampled_from(EMAILS), max_size=3, unique=True).map(tuple))
    custom = st.tuples(st.just("custom_fields.tier"), st.sampled_from(["gold", "silver", None]))
    return st.tuples(st.one_of(workflow, managers, custom), st.sampled_from(SOURCES))


def apply_all(hub, cid, writes):  # type: ignore[no-untyped-def]
    for (field, value), source, at in writes:
        with hub.uow() as uow:
            AssignmentService(uow.session).assign(
                cid, [FieldWrite(field, value)], source=source, occurred_at=at,
                cause=Cause("test"))
            uow.commit()
    with hub.uow() as uow:
        c = uow.session.get(Customer, cid)
        return (c.workflow_id, sorted(u.email for u in c.account_managers),
                dict(c.custom_fields), sorted((a.field, a.source, a.changed_at) for a in c.assignments))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(writes=st.lists(write_strategy(), min_size=1, max_size=8), data=st.data())
def test_any_delivery_order_ends_in_the_same_state(hub, writes, data):  # type: ignore[no-untyped-def]
    if not hasattr(hub, "_seeded"):
        for wid in WORKFLOWS:
            make_workflow(hub, wid, wid)
        for email in EMAILS:
            make_user(hub, email)
        hub._seeded = True
    # distinct times: equal (rank, time) pairs are last-writer-wins by design
    timed = [(w, s, T0 + timedelta(minutes=i)) for i, (w, s) in enumerate(writes)]
    shuffled = data.draw(st.permutations(timed))
    first = make_customer(hub, f"cus_{next(_counter)}")
    second = make_customer(hub, f"cus_{next(_counter)}")
    assert apply_all(hub, first, timed) == apply_all(hub, second, shuffled)
