"""The assignment service: the only code that writes a customer's workflow, account managers
and custom fields.

Every write names its source, the time the change happened at its origin and its cause. Each
field is judged on its own (``model.decide``, precedence from ``hub.domain``) and every decision,
applied or not, is recorded in the customer's history. The customers are locked first (``SELECT
... FOR UPDATE`` in id order on PostgreSQL; SQLite serialises writers at ``BEGIN IMMEDIATE``), so
two writers on one customer take turns instead of losing each other's changes.

One path for one customer or many: ``assign()`` is ``assign_many()`` of one request, and both
judge and write through ``state.CustomerState``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from hub.db.types import utcnow
from hub.domain.sources import Source
from hub.errors import ValidationFailed
from hub.services.assignment import state
from hub.services.assignment.batch import AssignmentBatch
from hub.services.assignment.model import (
    CUSTOM_PREFIX,
    AssignRequest,
    Cause,
    FieldOutcome,
    FieldWrite,
    check_request,
    is_assignable_field,
)


class AssignmentService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def assign(
        self,
        customer_id: str,
        writes: Sequence[FieldWrite],
        *,
        source: str,
        occurred_at: datetime,
        cause: Cause,
    ) -> list[FieldOutcome]:
        """Judge and apply each write; returns one outcome per write, in order.

        A caller may already hold the customer's row lock in this session (the worker locks it
        to read the snapshot recipes see); taking it again in the same transaction costs
        nothing. Everything is checked before anything is written, so a refusal leaves no trace."""
        request = AssignRequest(customer_id, writes, cause)
        return self.assign_many([request], source=source, occurred_at=occurred_at)[0]

    def assign_many(
        self, requests: Sequence[AssignRequest], *, source: str, occurred_at: datetime
    ) -> list[list[FieldOutcome]]:
        """Judge and apply the writes of many customers in one go: one outcome list per request.

        Requests are judged in order, so a customer named twice has its first write applied
        when the second is judged. The customers are locked and read together and written back
        with a handful of statements (``state``), which is what lets a CSV import apply a
        thousand lines per transaction.
        """
        writes = [w for r in requests for w in r.writes]
        check_request(writes, source, occurred_at)
        batch = AssignmentBatch(self.session)
        batch.check(writes, source)  # unknown users and dunningPlanIds: refused before anything is read
        if not requests:
            self.session.flush()
            return []
        batch.lock((r.customer_id for r in requests),
                   custom_fields=any(w.field.startswith(CUSTOM_PREFIX) for w in writes))
        results = [batch.assign(r.customer_id, r.writes, source=source, occurred_at=occurred_at,
                                cause=r.cause) for r in requests]
        batch.write()
        return results

    def open_batch(self, customer_ids: Iterable[str]) -> AssignmentBatch:
        """Lock and read these customers for requests judged one at a time, each with its own
        source, time and cause; ``write()`` the batch before the transaction commits."""
        batch = AssignmentBatch(self.session)
        batch.lock(customer_ids)
        return batch

    def release(self, customer_id: str, field: str, *, cause: Cause) -> FieldOutcome:
        """Hand a field back to the lowest rank: any source may write it next."""
        if not is_assignable_field(field):
            raise ValidationFailed(f"unknown field {field!r}")
        self.session.flush()
        states = state.load_states(self.session, [customer_id], field.startswith(CUSTOM_PREFIX))
        customer = states[customer_id]
        owner = customer.disown(field)
        value = customer.value(field)
        outcome = FieldOutcome(field, "released", "released by an admin", owner, value, value)
        request = AssignRequest(customer_id, (), cause)
        state.write_states(self.session, states, [state.history_row(request, outcome)], Source.MANUAL,
                           utcnow())
        state.expire_loaded(self.session, states)
        return outcome
