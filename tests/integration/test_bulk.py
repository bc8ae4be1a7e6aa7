"""hub.db.bulk writes exactly what the ORM would, whatever the values hold (both databases).

On PostgreSQL inserts go through COPY, whose text format has its own escaping (tabs, newlines,
backslashes), JSON goes through orjson and key sets through one JSON array; these tests pin
down that none of that shows in the stored values.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from sqlalchemy import Table, select
from sqlalchemy.exc import StatementError

from hub.db import bulk
from hub.db.models import AssignmentHistory, Customer
from tests.factories import make_customer

HISTORY = cast(Table, AssignmentHistory.__table__)
CUSTOMERS = cast(Table, Customer.__table__)
AT = datetime(2026, 11, 22, 14, 30, 15, 123456, tzinfo=UTC)
AWKWARD = ["tab\there", "new\nline", "cr\r\nlf", "back\\slash", "\\N", "quote'\"", "semi;colon",
           "ünïcødé €", "", "  spaces  ", "\u00a0nbsp", "=1+2"]
VALUES = [None, "text", 42, 1.5, True, False, [], {}, ["a@example.com", "b@example.com"],
          {"nested": {"list": [1, "two", None], "tab": "a\tb", "slash": "c:\\d"}}]


def history_row(customer_id: str, reason: str | None, old: object, new: object) -> dict:
    return {"customer_id": customer_id, "field": "workflow", "outcome": "applied",
            "reason": reason, "old_value": old, "new_value": new, "owner_source": None,
            "cause_type": "test", "cause_id": None, "actor": reason}


def stored_history(hub) -> list[tuple]:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        rows = uow.session.scalars(select(AssignmentHistory).order_by(AssignmentHistory.id))
        return [(h.customer_id, h.reason, h.old_value, h.new_value, h.actor, h.source,
                 h.occurred_at, h.recorded_at) for h in rows]


def test_inserted_text_and_json_come_back_as_given(hub) -> None:  # type: ignore[no-untyped-def]
    rows = [history_row(f"c{i}", text, value, [text, value])
            for i, (text, value) in enumerate(zip(AWKWARD * 2, VALUES * 3, strict=False))]
    rows.append(history_row("c-none", None, None, None))
    later = AT + timedelta(days=1)
    with hub.uow() as uow:
        bulk.insert_rows(uow.session, HISTORY, rows,
                         same={"source": "csv", "occurred_at": AT, "recorded_at": later})
        uow.commit()

    assert stored_history(hub) == [
        (r["customer_id"], r["reason"], r["old_value"], r["new_value"], r["actor"], "csv", AT, later)
        for r in rows
    ]


def test_an_insert_joins_the_callers_transaction(hub) -> None:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        bulk.insert_rows(uow.session, HISTORY, [history_row("c1", "x", None, "wf")],
                         same={"source": "csv", "occurred_at": AT, "recorded_at": AT})
        # leaving the block without commit() rolls back

    assert stored_history(hub) == []


def cause(error: BaseException) -> BaseException:
    """SQLAlchemy wraps what a bind processor raises (the SQLite path); COPY does not."""
    return error.orig if isinstance(error, StatementError) and error.orig else error


def test_a_naive_time_is_refused(hub) -> None:  # type: ignore[no-untyped-def]
    with hub.uow() as uow, pytest.raises(Exception) as caught:  # noqa: PT011 - checked below
        bulk.insert_rows(uow.session, HISTORY, [history_row("c1", "x", None, "wf")],
                         same={"source": "csv", "occurred_at": AT.replace(tzinfo=None),
                               "recorded_at": AT})
    assert isinstance(cause(caught.value), ValueError)
    assert "naive" in str(caught.value)


def test_a_value_json_cannot_hold_is_refused(hub) -> None:  # type: ignore[no-untyped-def]
    with hub.uow() as uow, pytest.raises(Exception) as caught:  # noqa: PT011 - checked below
        bulk.insert_rows(uow.session, HISTORY, [history_row("c1", "x", None, {1, 2})],
                         same={"source": "csv", "occurred_at": AT, "recorded_at": AT})
    assert isinstance(cause(caught.value), TypeError)


def test_update_and_one_of_match_exactly_the_keys_given(hub) -> None:  # type: ignore[no-untyped-def]
    ids = [make_customer(hub, f"EXT-{n}") for n in range(5)]
    awkward = make_customer(hub, "EXT,with 'quote\" and {brace}")
    targets = [ids[0], ids[3], awkward]
    with hub.uow() as uow:
        bulk.update_rows(uow.session, CUSTOMERS, ("id",),
                         [{"id": cid, "ownership": {"workflow": {"source": "csv", "n": n}}}
                          for n, cid in enumerate(targets)],
                         same={"updated_at": AT})
        uow.commit()

    with hub.uow() as uow:
        found = uow.session.execute(
            select(Customer.id, Customer.ownership, Customer.updated_at)
            .where(bulk.one_of(uow.session, Customer.id, [*targets, "no-such-id"]))
        ).all()
        external = set(uow.session.scalars(select(Customer.external_id).where(
            bulk.one_of(uow.session, Customer.external_id, ["EXT,with 'quote\" and {brace}", "EXT-4"]))))
        untouched = uow.session.scalars(select(Customer.ownership).where(Customer.id == ids[1])).one()

    assert {(cid, own["workflow"]["n"], at) for cid, own, at in found} == {
        (cid, n, AT) for n, cid in enumerate(targets)}
    assert external == {"EXT,with 'quote\" and {brace}", "EXT-4"}
    assert untouched == {}


def test_delete_removes_only_the_rows_given(hub) -> None:  # type: ignore[no-untyped-def]
    from hub.db.models import CustomerAccountManager
    from tests.factories import make_user

    managers = cast(Table, CustomerAccountManager.__table__)
    customer = make_customer(hub, "EXT-1")
    users = [make_user(hub, f"m{n}@example.com") for n in range(3)]
    with hub.uow() as uow:
        bulk.insert_rows(uow.session, managers,
                         [{"customer_id": customer, "user_id": u} for u in users])
        bulk.delete_rows(uow.session, managers, [{"customer_id": customer, "user_id": users[1]}])
        uow.commit()

    with hub.uow() as uow:
        left = set(uow.session.scalars(select(CustomerAccountManager.user_id)))
    assert left == {users[0], users[2]}
