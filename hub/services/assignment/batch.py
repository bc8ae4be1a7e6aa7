"""An open assignment batch: many customers locked and read once, writes judged one request at a
time in memory, everything written back with a handful of statements at the end.

``assign_many`` (a CSV chunk, a bulk job) and the worker's batch of webhook events both go
through it. A request that names an unknown user or dunningPlanId is refused on its own
(``assign`` raises, and nothing of that request is kept) while the others stand, which is what
lets one bad recipe run fail alone inside a batch of fifty events. Requests are judged in the
order they are made, against the state the earlier ones left, so a customer named twice sees its
first change when the second is judged; ``view`` gives that state to a recipe as its snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.models import User, Workflow
from hub.db.models.customers import owner_json
from hub.db.types import new_id
from hub.domain.sources import Source
from hub.errors import ValidationFailed
from hub.services.assignment import state
from hub.services.assignment.model import (
    ACCOUNT_MANAGERS,
    WORKFLOW,
    AssignRequest,
    Cause,
    FieldOutcome,
    FieldWrite,
    check_request,
    emails_of,
)


class AssignmentBatch:
    """Made by ``AssignmentService.open_batch``; ``write()`` once at the end, in the same transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.states: dict[str, state.CustomerState] = {}
        self._user_ids: dict[str, str] = {}  # email -> id, for the users met so far
        self._workflow_ids: set[str] | None = None
        self._history: list[dict[str, Any]] = []
        self._origins: list[tuple[str, datetime]] = []  # (source, occurred_at) of each history row

    def lock(self, customer_ids: Iterable[str], custom_fields: bool = True) -> None:
        """Lock and read the customers (in id order: concurrent batches cannot deadlock)."""
        # Pending changes of the caller (new customers, their profile) reach the database first.
        self.session.flush()
        ids = sorted(set(customer_ids))
        self.states = state.load_states(self.session, ids, custom_fields) if ids else {}

    def view(self, customer_id: str) -> state.CustomerState:
        """The customer's state as the requests so far left it (read it, do not change it)."""
        return self.states[customer_id]

    def check(self, writes: Sequence[FieldWrite], source: str) -> None:
        """Refuse writes naming unknown users or dunningPlanIds, with one query each, before any
        customer is locked; the users of a Salesforce write are created instead."""
        self._users_for(writes, create_missing=source == Source.SALESFORCE)
        self._check_workflows(writes)

    def assign(self, customer_id: str, writes: Sequence[FieldWrite], *, source: str,
               occurred_at: datetime, cause: Cause) -> list[FieldOutcome]:
        """Judge and apply one request in memory; ValidationFailed leaves the batch as it was."""
        check_request(writes, source, occurred_at)
        user_ids = self._users_for(writes, create_missing=source == Source.SALESFORCE)
        self._check_workflows(writes)
        customer = self.states[customer_id]
        new_owner = owner_json(source, occurred_at)
        request = AssignRequest(customer_id, writes, cause)
        outcomes = [state.judge_write(customer, w, source, occurred_at, user_ids, new_owner) for w in writes]
        self._history += [state.history_row(request, o) for o in outcomes]
        self._origins += [(source, occurred_at)] * len(outcomes)
        return outcomes

    def record(self, customer_id: str, outcome: FieldOutcome, *, source: str, occurred_at: datetime,
               cause: Cause) -> None:
        """A decision taken outside ``assign`` (a release), kept in the history like the others."""
        self._history.append(state.history_row(AssignRequest(customer_id, (), cause), outcome))
        self._origins.append((source, occurred_at))

    def write(self) -> None:
        """Write back every change and the history, then forget what the session had loaded."""
        self.session.flush()  # users created for Salesforce owners, before their manager rows
        origins = set(self._origins)
        if len(origins) == 1:  # one source and time for every row (a CSV chunk): sent once
            source, occurred_at = origins.pop()
            state.write_states(self.session, self.states, self._history, source, occurred_at)
        else:
            rows = [{**row, "source": s, "occurred_at": at}
                    for row, (s, at) in zip(self._history, self._origins, strict=True)]
            state.write_states(self.session, self.states, rows)
        state.expire_loaded(self.session, self.states)
        self._history, self._origins = [], []

    # -- what the writes name --------------------------------------------------------------

    def _users_for(self, writes: Sequence[FieldWrite], create_missing: bool) -> dict[str, str]:
        emails = {e for w in writes if w.field == ACCOUNT_MANAGERS for e in emails_of(w)}
        if not emails:
            return {}
        missing = sorted(emails - self._known_users(emails).keys())
        if missing and not create_missing:
            raise ValidationFailed(
                f"unknown user email(s): {', '.join(missing)}",
                details={"unknown_emails": missing},
                code="unknown_user",
            )
        for email in missing:  # Salesforce owners become users, not invited (as Upflow does)
            user = User(id=new_id(), email=email, status="not_invited", role="account_manager")
            self.session.add(user)
            self._user_ids[email] = user.id
        return {e: self._user_ids[e] for e in emails}

    def _known_users(self, emails: set[str]) -> dict[str, str]:
        unseen = emails - self._user_ids.keys()
        if unseen:
            found = self.session.execute(select(User.email, User.id).where(User.email.in_(unseen)))
            self._user_ids.update((email, user_id) for email, user_id in found)
        return {e: self._user_ids[e] for e in emails if e in self._user_ids}

    def _known_workflows(self) -> set[str]:
        if self._workflow_ids is None:  # a small table, read once per batch
            self._workflow_ids = set(self.session.scalars(select(Workflow.id)))
        return self._workflow_ids

    def _check_workflows(self, writes: Sequence[FieldWrite]) -> None:
        wanted = {w.value for w in writes if w.field == WORKFLOW and w.value is not None}
        if not wanted:
            return
        missing = wanted - self._known_workflows()
        if missing:
            raise ValidationFailed(
                f"unknown dunningPlanId: {', '.join(sorted(missing))}",
                details={"unknown_dunning_plan_ids": sorted(missing)},
                code="unknown_workflow",
            )
