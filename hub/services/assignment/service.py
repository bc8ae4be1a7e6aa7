"""The assignment service: the only code that writes a customer's workflow, account managers
and custom fields.

Every write names its source, the time the change happened at its origin and its cause. Each
field is judged on its own (``hub.domain.precedence``) and every decision, applied or not, is
recorded in the customer's history. The customer row is locked first (``SELECT ... FOR UPDATE``
on PostgreSQL; SQLite serialises writers at ``BEGIN IMMEDIATE``), so two writers on one
customer take turns instead of losing each other's changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.models import AssignmentHistory, Customer, FieldOwner, User, Workflow
from hub.db.models.customers import ownership_json, read_ownership
from hub.db.types import utcnow
from hub.domain import precedence
from hub.domain.precedence import Ownership
from hub.domain.sources import Source, is_source
from hub.errors import NotFound, ValidationFailed

WORKFLOW = "workflow"
ACCOUNT_MANAGERS = "account_managers"
CUSTOM_PREFIX = "custom_fields."
OPS = ("set", "add", "remove")


@dataclass(frozen=True)
class FieldWrite:
    """One requested change. Account managers are emails; the workflow is its dunningPlanId."""

    field: str
    value: Any
    op: str = "set"


@dataclass(frozen=True)
class Cause:
    """Why a write happened: an API request, a recipe run, an import line, a bulk assignment."""

    kind: str
    ref: str | None = None
    actor: str | None = None


@dataclass(frozen=True)
class AssignRequest:
    """The writes for one customer and their cause: one item of assign_many()."""

    customer_id: str
    writes: Sequence[FieldWrite]
    cause: Cause


@dataclass(frozen=True)
class FieldOutcome:
    field: str
    outcome: str
    reason: str
    owner: str | None
    old: Any
    new: Any

    def to_dict(self) -> dict[str, Any]:
        body = {"outcome": self.outcome, "reason": self.reason, "old": self.old, "new": self.new}
        if self.outcome in (precedence.OVERRULED, precedence.STALE):
            body["owner"] = self.owner
        return body


def is_assignable_field(field: str) -> bool:
    return field in (WORKFLOW, ACCOUNT_MANAGERS) or (
        field.startswith(CUSTOM_PREFIX) and len(field) > len(CUSTOM_PREFIX)
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
        locked: Customer | None = None,
    ) -> list[FieldOutcome]:
        """Judge and apply each write; returns one outcome per write, in order.

        ``locked`` is the customer when the caller already holds its row lock in this session
        (the worker locks it to read the snapshot recipes see); otherwise it is locked here.
        Everything is checked before anything is written, so a refusal leaves no trace."""
        _check_request(writes, source, occurred_at)
        customer = locked if locked is not None and locked.id == customer_id else self._lock(customer_id)
        workflows = self._resolve_workflows(writes)
        refs = {**self._resolve_users(writes, create_missing=source == Source.SALESFORCE), **workflows}
        # One copy of the custom fields and of the owners, changed in place and written back once:
        # a request naming N custom fields costs N, not N² (each write used to copy the whole dict).
        owners = read_ownership(customer.ownership)
        custom = dict(customer.custom_fields or {})
        outcomes = [
            self._write_one(customer, owners, custom, refs, w, source, occurred_at, cause)
            for w in writes
        ]
        if custom != (customer.custom_fields or {}):
            customer.custom_fields = custom  # a new dict, so SQLAlchemy sees the JSON change
        if any(taken for _, taken in outcomes):
            customer.ownership = ownership_json(owners.values())
        self.session.flush()
        return [outcome for outcome, _ in outcomes]

    def assign_many(
        self, requests: Sequence[AssignRequest], *, source: str, occurred_at: datetime
    ) -> list[list[FieldOutcome]]:
        """assign() for many customers in one go: same rules, outcomes and history.

        For bulk work (the CSV import): customers are locked together in id order and read and
        written with a handful of statements instead of several round trips each (see
        ``hub.services.assignment.batch``). Requests are judged in order, so a customer named
        twice has its first write applied when the second is judged. Returns one outcome list
        per request, in order.
        """
        from hub.services.assignment import batch as assignment_batch

        writes = [w for r in requests for w in r.writes]
        _check_request(writes, source, occurred_at)
        users = self._resolve_users(writes, create_missing=source == Source.SALESFORCE)
        self._check_workflows(writes)  # unknown dunningPlanIds are refused, as in assign()
        self.session.flush()  # created users get their ids before the batch refers to them
        user_ids = {email: user.id for email, user in users.items()}
        return assignment_batch.apply(self.session, requests, source, occurred_at, user_ids)

    def release(self, customer_id: str, field: str, *, cause: Cause) -> FieldOutcome:
        """Hand a field back to the lowest rank: any source may write it next."""
        if not is_assignable_field(field):
            raise ValidationFailed(f"unknown field {field!r}")
        customer = self._lock(customer_id)
        owners = read_ownership(customer.ownership)
        owner = owners.pop(field, None)
        value = _current_value(customer, field)
        customer.ownership = ownership_json(owners.values())
        outcome = FieldOutcome(
            field, "released", "released by an admin", owner.source if owner else None, value, value
        )
        self._record(customer, outcome, Source.MANUAL, utcnow(), cause)
        return outcome

    # -- steps ---------------------------------------------------------------------------

    def _lock(self, customer_id: str) -> Customer:
        stmt = (
            select(Customer)
            .where(Customer.id == customer_id)
            .with_for_update(of=Customer)
            .execution_options(populate_existing=True)
        )
        customer = self.session.execute(stmt).unique().scalar_one_or_none()
        if customer is None:
            raise NotFound(f"customer {customer_id} not found")
        return customer

    def _resolve_users(self, writes: Iterable[FieldWrite], create_missing: bool) -> dict:
        emails = {e for w in writes if w.field == ACCOUNT_MANAGERS for e in _emails_of(w)}
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

    def _resolve_workflows(self, writes: Iterable[FieldWrite]) -> dict[str, Workflow]:
        wanted = _workflow_ids(writes)
        if not wanted:
            return {}
        # session.get answers from the identity map when the caller already loaded the workflow
        known = {wf.id: wf for wf in (self.session.get(Workflow, w) for w in wanted) if wf is not None}
        _refuse_unknown_workflows(wanted - known.keys())
        return known

    def _check_workflows(self, writes: Iterable[FieldWrite]) -> None:
        """_resolve_workflows() for a batch: one query for its few ids, no objects loaded."""
        wanted = _workflow_ids(writes)
        if wanted:
            known = set(self.session.scalars(select(Workflow.id).where(Workflow.id.in_(wanted))))
            _refuse_unknown_workflows(wanted - known)

    def _write_one(
        self,
        customer: Customer,
        owners: dict[str, FieldOwner],
        custom: dict[str, Any],
        refs: dict[str, Any],
        write: FieldWrite,
        source: str,
        occurred_at: datetime,
        cause: Cause,
    ) -> tuple[FieldOutcome, bool]:
        """Judge one write against ``owners`` and ``custom`` (the caller's working copies, changed in
        place); returns its outcome and whether the source took the field."""
        owner = owners.get(write.field)
        ownership = Ownership(owner.source if owner else None, owner.changed_at if owner else None)
        outcome, takes_ownership = decide(
            write, ownership, _current_value(customer, write.field, custom), source, occurred_at
        )
        if outcome.outcome == precedence.APPLIED:
            _set_value(customer, custom, write.field, outcome.new, refs)
        if takes_ownership:
            owners[write.field] = FieldOwner(write.field, source, occurred_at)
        self._record(customer, outcome, source, occurred_at, cause)
        return outcome, takes_ownership

    def _record(
        self,
        customer: Customer,
        outcome: FieldOutcome,
        source: str,
        occurred_at: datetime,
        cause: Cause,
    ) -> None:
        self.session.add(
            AssignmentHistory(
                customer_id=customer.id,
                field=outcome.field,
                source=source,
                outcome=outcome.outcome,
                reason=outcome.reason,
                old_value=outcome.old,
                new_value=outcome.new,
                owner_source=outcome.owner,
                occurred_at=occurred_at,
                cause_type=cause.kind,
                cause_id=cause.ref,
                actor=cause.actor,
            )
        )


# -- values ------------------------------------------------------------------------------


def decide(
    write: FieldWrite, ownership: Ownership, old: Any, source: str, occurred_at: datetime
) -> tuple[FieldOutcome, bool]:
    """The decision for one write, shared by assign() and assign_many().

    Returns the outcome (the value is to be written only when it is ``applied``) and whether
    the writer takes ownership of the field: it does when allowed, even when the value is
    unchanged, so that later writes are judged against the latest allowed writer.
    """
    verdict = precedence.judge(write.field, ownership, source, occurred_at)
    new = _target_value(old, write)
    if new == old:
        name, reason = precedence.UNCHANGED, "the field already has this value"
    elif verdict.allowed:
        name, reason = precedence.APPLIED, verdict.reason
    else:
        name, reason = verdict.outcome, verdict.reason
    return FieldOutcome(write.field, name, reason, ownership.source, old, new), verdict.allowed


def _check_request(writes: Sequence[FieldWrite], source: str, occurred_at: datetime) -> None:
    if not is_source(source):
        raise ValidationFailed(f"unknown source {source!r}", code="unknown_source")
    if occurred_at.tzinfo is None:
        raise ValidationFailed("occurredAt must carry a time zone")
    for w in writes:
        if not is_assignable_field(w.field):
            raise ValidationFailed(f"unknown field {w.field!r}")
        if w.op not in OPS or (w.op != "set" and w.field != ACCOUNT_MANAGERS):
            raise ValidationFailed(f"operation {w.op!r} is not possible on {w.field}")


def _workflow_ids(writes: Iterable[FieldWrite]) -> set[str]:
    return {w.value for w in writes if w.field == WORKFLOW and w.value is not None}


def _refuse_unknown_workflows(missing: set[str]) -> None:
    if missing:
        raise ValidationFailed(
            f"unknown dunningPlanId: {', '.join(sorted(missing))}",
            details={"unknown_dunning_plan_ids": sorted(missing)},
            code="unknown_workflow",
        )


def _emails_of(write: FieldWrite) -> list[str]:
    values = write.value if write.op == "set" else [write.value]
    return [str(v).strip().lower() for v in (values or [])]


def _current_value(customer: Customer, field: str, custom: dict[str, Any] | None = None) -> Any:
    """``custom`` is the working copy of the custom fields when assign() holds one."""
    if field == WORKFLOW:
        return customer.workflow_id
    if field == ACCOUNT_MANAGERS:
        return sorted(u.email for u in customer.account_managers)
    return (customer.custom_fields or {} if custom is None else custom).get(field[len(CUSTOM_PREFIX) :])


def _target_value(old: Any, write: FieldWrite) -> Any:
    if write.field != ACCOUNT_MANAGERS:
        return write.value
    emails = _emails_of(write)
    if write.op == "add":
        return sorted(set(old) | set(emails))
    if write.op == "remove":
        return sorted(set(old) - set(emails))
    return sorted(set(emails))


def _set_value(
    customer: Customer, custom: dict[str, Any], field: str, value: Any, refs: dict[str, Any]
) -> None:
    """Write a value; ``refs`` maps emails to Users and dunningPlanIds to Workflows; a custom field
    goes into ``custom``, the working copy assign() writes back once."""
    if field == WORKFLOW:
        customer.workflow = None if value is None else refs[value]
        customer.workflow_id = value  # a later write in the same call reads it before the flush
    elif field == ACCOUNT_MANAGERS:
        kept = {u.email: u for u in customer.account_managers}  # add/remove keep the others
        customer.account_managers = [refs.get(e) or kept[e] for e in value]
    elif value is None:
        custom.pop(field[len(CUSTOM_PREFIX) :], None)
    else:
        custom[field[len(CUSTOM_PREFIX) :]] = value
    customer.updated_at = utcnow()
