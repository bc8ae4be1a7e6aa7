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

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.models import User, Workflow
from hub.db.models.customers import owner_json
from hub.db.types import utcnow
from hub.domain.sources import Source
from hub.errors import ValidationFailed
from hub.services.assignment import state
from hub.services.assignment.model import (
    ACCOUNT_MANAGERS,
    CUSTOM_PREFIX,
    WORKFLOW,
    AssignRequest,
    Cause,
    FieldOutcome,
    FieldWrite,
    check_request,
    emails_of,
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
        users = self._resolve_users(writes, create_missing=source == Source.SALESFORCE)
        self._check_workflows(writes)  # unknown dunningPlanIds are refused before anything is read
        # Pending changes of the caller (a customer's profile, created users) reach the database
        # before the state is read and written around the ORM.
        self.session.flush()
        if not requests:
            return []
        user_ids = {email: user.id for email, user in users.items()}
        custom = any(w.field.startswith(CUSTOM_PREFIX) for w in writes)
        states = state.load_states(self.session, sorted({r.customer_id for r in requests}), custom)
        new_owner = owner_json(source, occurred_at)
        history, results = [], []
        for request in requests:
            outcomes = [state.judge_write(states[request.customer_id], w, source, occurred_at, user_ids,
                                          new_owner) for w in request.writes]
            history += [state.history_row(request, o) for o in outcomes]
            results.append(outcomes)
        state.write_states(self.session, states, history, source, occurred_at)
        state.expire_loaded(self.session, states)
        return results

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

    # -- what the writes name --------------------------------------------------------------

    def _resolve_users(self, writes: Iterable[FieldWrite], create_missing: bool) -> dict[str, User]:
        emails = {e for w in writes if w.field == ACCOUNT_MANAGERS for e in emails_of(w)}
        if not emails:
            return {}
        found = self.session.scalars(select(User).where(User.email.in_(emails))).all()
        users = {u.email: u for u in found}
        missing = sorted(emails - users.keys())
        if missing and not create_missing:
            raise ValidationFailed(
                f"unknown user email(s): {', '.join(missing)}",
                details={"unknown_emails": missing},
                code="unknown_user",
            )
        for email in missing:  # Salesforce owners become users, not invited (as Upflow does)
            users[email] = User(email=email, status="not_invited", role="account_manager")
            self.session.add(users[email])
        return users

    def _check_workflows(self, writes: Iterable[FieldWrite]) -> None:
        wanted = {w.value for w in writes if w.field == WORKFLOW and w.value is not None}
        if not wanted:
            return
        known = set(self.session.scalars(select(Workflow.id).where(Workflow.id.in_(wanted))))
        missing = wanted - known
        if missing:
            raise ValidationFailed(
                f"unknown dunningPlanId: {', '.join(sorted(missing))}",
                details={"unknown_dunning_plan_ids": sorted(missing)},
                code="unknown_workflow",
            )
