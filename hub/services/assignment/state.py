"""A locked customer's assignment state: read once, judged and changed in memory, written once.

Every assignment goes through here, one customer (an API write, a recipe run) or a thousand (a
chunk of CSV lines): the customers are locked and read with two queries, each write judged with
``model.decide`` against this in-memory state, and the result written back with one set-based
statement per kind of change (``hub.db.bulk``). One copy of the custom fields and of the owners
is taken per customer and changed in place, so a request naming N fields costs N, not N².
Only the AssignmentService uses this module.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, literal, select
from sqlalchemy.orm import Session

from hub.db import bulk
from hub.db.models import AssignmentHistory, Customer, CustomerAccountManager, User
from hub.db.models.customers import parse_changed_at
from hub.db.types import utcnow
from hub.domain import precedence
from hub.domain.precedence import Ownership
from hub.errors import NotFound
from hub.services.assignment.model import (
    ACCOUNT_MANAGERS,
    CUSTOM_PREFIX,
    WORKFLOW,
    AssignRequest,
    FieldOutcome,
    FieldWrite,
    decide,
)

CUSTOMERS = cast(Table, Customer.__table__)
MANAGERS = cast(Table, CustomerAccountManager.__table__)
USERS = cast(Table, User.__table__)
HISTORY = cast(Table, AssignmentHistory.__table__)
NO_OWNER = Ownership(None, None)


@dataclass(slots=True)
class CustomerState:
    """A locked customer's assignment state, read once, changed in memory, written once."""

    workflow_id: str | None
    custom_fields: dict[str, Any]
    managers: dict[str, str]  # email → user id
    ownership: dict[str, dict[str, str]]  # as stored: {field: {"source", "changedAt"}}
    initial_managers: dict[str, str]
    changed: set[str] = field(default_factory=set)  # customer columns to write back

    def owner(self, name: str) -> Ownership:
        stored = self.ownership.get(name)
        return NO_OWNER if stored is None else _ownership(stored["source"], stored["changedAt"])

    def own(self, name: str, stored_owner: dict[str, str]) -> None:
        self._owners_to_change()[name] = stored_owner

    def disown(self, name: str) -> str | None:
        """Forget the field's owner, so any source may write it next; the source that owned it."""
        stored = self._owners_to_change().pop(name, None)
        return stored["source"] if stored else None

    def _owners_to_change(self) -> dict[str, dict[str, str]]:
        if "ownership" not in self.changed:  # copied once, as the custom fields
            self.ownership = dict(self.ownership)
            self.changed.add("ownership")
        return self.ownership

    def value(self, name: str) -> Any:
        if name == WORKFLOW:
            return self.workflow_id
        if name == ACCOUNT_MANAGERS:
            return sorted(self.managers)
        return self.custom_fields.get(name[len(CUSTOM_PREFIX) :])

    def set(self, name: str, value: Any, user_ids: dict[str, str]) -> None:
        if name == WORKFLOW:
            self.workflow_id = value  # a dunningPlanId the service checked
            self.changed.add("workflow_id")
        elif name == ACCOUNT_MANAGERS:
            self.managers = {e: user_ids.get(e) or self.managers[e] for e in value}
            self.changed.add("managers")
        else:
            if "custom_fields" not in self.changed:  # copied once, then changed in place: N, not N²
                self.custom_fields = dict(self.custom_fields)
                self.changed.add("custom_fields")
            key = name[len(CUSTOM_PREFIX) :]
            if value is None:
                self.custom_fields.pop(key, None)
            else:
                self.custom_fields[key] = value


def judge_write(
    state: CustomerState, write: FieldWrite, source: str, occurred_at: datetime,
    user_ids: dict[str, str], new_owner: dict[str, str],
) -> FieldOutcome:
    """Judge one write against the state and apply it there (nothing is written yet)."""
    outcome, takes_ownership = decide(
        write, state.owner(write.field), state.value(write.field), source, occurred_at)
    if outcome.outcome == precedence.APPLIED:
        state.set(write.field, outcome.new, user_ids)
    if takes_ownership:
        state.own(write.field, new_owner)
    return outcome


@functools.lru_cache(maxsize=1024)
def _ownership(source: str, changed_at: str) -> Ownership:
    """A stored owner, parsed once: a batch meets the same few owners over and over."""
    return Ownership(source, parse_changed_at(changed_at))


def load_states(
    session: Session, customer_ids: list[str], custom_fields: bool = True
) -> dict[str, CustomerState]:
    """Lock the customers (in id order, so concurrent batches cannot deadlock) and read them.

    Custom fields are read only when a write names one (`custom_fields`): a CSV import never
    does, and decoding every customer's JSON for nothing costs more than the lookup itself.
    """
    customs = CUSTOMERS.c.custom_fields if custom_fields else literal(None).label("custom_fields")
    locked = session.execute(
        select(CUSTOMERS.c.id, CUSTOMERS.c.workflow_id, customs, CUSTOMERS.c.ownership)
        .where(bulk.one_of(session, CUSTOMERS.c.id, customer_ids))
        .order_by(CUSTOMERS.c.id)
        .with_for_update(of=CUSTOMERS)
    ).all()
    if len(locked) != len(customer_ids):
        missing = sorted(set(customer_ids) - {row.id for row in locked})
        raise NotFound(f"customer {missing[0]} not found", details={"missing": missing})
    managers: dict[str, dict[str, str]] = {cid: {} for cid in customer_ids}
    for cid, email, user_id in session.execute(
        select(MANAGERS.c.customer_id, USERS.c.email, USERS.c.id)
        .join(USERS, USERS.c.id == MANAGERS.c.user_id)
        .where(bulk.one_of(session, MANAGERS.c.customer_id, customer_ids))
    ):
        managers[cid][email] = user_id
    return {
        cid: CustomerState(workflow_id, dict(custom_fields or {}), managers[cid],
                           dict(ownership or {}), dict(managers[cid]))
        for cid, workflow_id, custom_fields, ownership in locked
    }


def history_row(request: AssignRequest, outcome: FieldOutcome) -> dict[str, Any]:
    # source, occurred_at and recorded_at are the batch's own: written once (see write_states).
    return {
        "customer_id": request.customer_id,
        "field": outcome.field,
        "outcome": outcome.outcome,
        "reason": outcome.reason,
        "old_value": outcome.old,
        "new_value": outcome.new,
        "owner_source": outcome.owner,
        "cause_type": request.cause.kind,
        "cause_id": request.cause.ref,
        "actor": request.cause.actor,
    }


def write_states(
    session: Session,
    states: dict[str, CustomerState],
    history: list[dict[str, Any]],
    source: str | None = None,
    occurred_at: datetime | None = None,
) -> None:
    """Write back what changed: one set-based statement per kind of change.

    Without ``source`` and ``occurred_at``, each history row carries its own."""
    now = utcnow()
    _update_customers(session, states, now)
    _write_managers(session, states)
    same: dict[str, Any] = {"recorded_at": now}
    if source is not None:
        same |= {"source": source, "occurred_at": occurred_at}
    bulk.insert_rows(session, HISTORY, history, same=same)


def _update_customers(session: Session, states: dict[str, CustomerState], now: datetime) -> None:
    # One statement needs the same columns in every row: group customers by what changed.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for cid, state in states.items():
        if state.changed:
            columns = tuple(sorted(state.changed - {"managers"}))
            row = {"id": cid, **{c: getattr(state, c) for c in columns}}
            groups.setdefault(columns, []).append(row)
    for rows in groups.values():
        bulk.update_rows(session, CUSTOMERS, ("id",), rows, same={"updated_at": now})


def _write_managers(session: Session, states: dict[str, CustomerState]) -> None:
    removed, added = [], []
    for cid, state in states.items():
        if "managers" in state.changed:
            before, after = set(state.initial_managers.values()), set(state.managers.values())
            removed += [{"customer_id": cid, "user_id": uid} for uid in sorted(before - after)]
            added += [{"customer_id": cid, "user_id": uid} for uid in sorted(after - before)]
    bulk.delete_rows(session, MANAGERS, removed)
    bulk.insert_rows(session, MANAGERS, added)


def expire_loaded(session: Session, states: dict[str, CustomerState]) -> None:
    """Objects this session loaded before the batch must not show the old state afterwards."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Customer) and obj.id in states:
            session.expire(obj)
