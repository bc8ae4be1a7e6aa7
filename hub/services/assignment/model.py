"""What an assignment is: the fields, a requested write, its cause, its outcome, and the decision.

Pure: no database. ``decide`` is the one place a write is judged (precedence from
``hub.domain.precedence``, then the value comparison), whatever path the write takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.domain import precedence
from hub.domain.precedence import Ownership
from hub.domain.sources import is_source
from hub.errors import ValidationFailed

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


def decide(
    write: FieldWrite, ownership: Ownership, old: Any, source: str, occurred_at: datetime
) -> tuple[FieldOutcome, bool]:
    """The decision for one write.

    Returns the outcome (the value is to be written only when it is ``applied``) and whether
    the writer takes ownership of the field: it does when allowed, even when the value is
    unchanged, so that later writes are judged against the latest allowed writer.
    """
    verdict = precedence.judge(write.field, ownership, source, occurred_at)
    new = target_value(old, write)
    if new == old:
        name, reason = precedence.UNCHANGED, "the field already has this value"
    elif verdict.allowed:
        name, reason = precedence.APPLIED, verdict.reason
    else:
        name, reason = verdict.outcome, verdict.reason
    return FieldOutcome(write.field, name, reason, ownership.source, old, new), verdict.allowed


def check_request(writes: Sequence[FieldWrite], source: str, occurred_at: datetime) -> None:
    """Refuse the whole request before anything is read or written."""
    if not is_source(source):
        raise ValidationFailed(f"unknown source {source!r}", code="unknown_source")
    if occurred_at.tzinfo is None:
        raise ValidationFailed("occurredAt must carry a time zone")
    for w in writes:
        if not is_assignable_field(w.field):
            raise ValidationFailed(f"unknown field {w.field!r}")
        if w.op not in OPS or (w.op != "set" and w.field != ACCOUNT_MANAGERS):
            raise ValidationFailed(f"operation {w.op!r} is not possible on {w.field}")


def emails_of(write: FieldWrite) -> list[str]:
    values = write.value if write.op == "set" else [write.value]
    return [str(v).strip().lower() for v in (values or [])]


def target_value(old: Any, write: FieldWrite) -> Any:
    """The value the field would have after the write (account managers: set, add or remove)."""
    if write.field != ACCOUNT_MANAGERS:
        return write.value
    emails = emails_of(write)
    if write.op == "add":
        return sorted(set(old) | set(emails))
    if write.op == "remove":
        return sorted(set(old) - set(emails))
    return sorted(set(emails))
