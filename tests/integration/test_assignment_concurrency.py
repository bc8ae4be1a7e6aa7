"""Two writers on one customer at once serialise on the customer row (PostgreSQL row lock)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from hub.db.models import AssignmentHistory, Customer
from hub.services.assignment import AssignmentService, Cause, FieldWrite
from tests.factories import make_customer, make_user

WRITERS = 4
EACH = 10
AT = datetime(2026, 11, 1, tzinfo=UTC)  # one time: only the lock is under test, not staleness


def test_concurrent_adds_are_never_lost(hub, is_postgres):  # type: ignore[no-untyped-def]
    if not is_postgres:
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises at BEGIN IMMEDIATE")
    emails = [f"u{w}-{i}@example.com" for w in range(WRITERS) for i in range(EACH)]
    for email in emails:
        make_user(hub, email)
    cid = make_customer(hub, "cus_busy")
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            barrier.wait()
            for i in range(EACH):
                with hub.uow() as uow:
                    AssignmentService(uow.session).assign(
                        cid, [FieldWrite("account_managers", f"u{w}-{i}@example.com", op="add")],
                        source="api", occurred_at=AT, cause=Cause("test"))
                    uow.commit()
        except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with hub.uow() as uow:
        customer = uow.session.get(Customer, cid)
        # without the row lock, read-modify-write of the set loses concurrent additions
        assert sorted(u.email for u in customer.account_managers) == sorted(emails)
        assert uow.session.scalar(select(func.count(AssignmentHistory.id))) == WRITERS * EACH
