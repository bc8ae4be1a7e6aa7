"""One chunk of import lines: resolve names in bulk, assign as source csv, classify each line.

A line is resolved before anything is written: the customer by external id, the account managers
by email (existing users only), the workflow by name. A line with any of these problems (or a
malformed line) is not applied at all, so fixing it and importing it again applies it whole.
The other lines go to the assignment service together (``assign_many``), which judges each field
on its own. A line then counts as:

- ``updated`` when at least one field changed and none was refused;
- ``unchanged`` when every field already had the value;
- failed when any field was overruled, stale or refused, even if another field of the same line
  was applied (that change stays, and the message says so): the admin has to look at the line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.csvfile.columns import suggest
from hub.csvfile.reader import ImportLine
from hub.db import bulk
from hub.db.models import Customer, User
from hub.domain import precedence
from hub.domain.sources import Source
from hub.services.assignment import (
    ACCOUNT_MANAGERS,
    WORKFLOW,
    AssignmentService,
    AssignRequest,
    Cause,
    FieldOutcome,
    FieldWrite,
)
from hub.services.directory.workflows import workflows_by_name

CUSTOMER_NOT_FOUND = "The customer was not found"
USER_NOT_FOUND = "User not found, check the email"
WORKFLOW_NOT_FOUND = "Workflow not found, check spelling"
FIELD_LABELS = {WORKFLOW: "workflow", ACCOUNT_MANAGERS: "account managers"}
APPLIED_NOTES = {WORKFLOW: "the workflow was updated",
                 ACCOUNT_MANAGERS: "the account managers were updated"}
NOT_APPLIED = (precedence.OVERRULED, precedence.STALE, precedence.REFUSED)


class WorkflowNames:
    """Workflow names → dunningPlanIds, loaded once per import, with "did you mean" answers."""

    def __init__(self, ids_by_name: dict[str, str]) -> None:
        self._ids = ids_by_name
        self._suggestions: dict[str, str | None] = {}

    @classmethod
    def load(cls, session: Session) -> WorkflowNames:
        # Keys are normalised like the reader normalises cells: NBSP and runs of spaces → " ".
        return cls({name: wf.id for name, wf in workflows_by_name(session).items()})

    def id_of(self, name: str) -> str | None:
        return self._ids.get(name)

    def not_found(self, name: str) -> str:
        if name not in self._suggestions:  # the same misspelling tends to repeat
            self._suggestions[name] = suggest(name, self._ids)
        hint = self._suggestions[name]
        return f"{WORKFLOW_NOT_FOUND} (did you mean '{hint}'?)" if hint else WORKFLOW_NOT_FOUND


@dataclass
class ChunkResult:
    updated: int = 0
    unchanged: int = 0
    failures: list[tuple[ImportLine, str]] = field(default_factory=list)


@dataclass(frozen=True)
class LineContext:
    """What every line of an import shares: its id (for the cause), time and requester."""

    import_id: int
    occurred_at: datetime
    requested_by: str | None


def apply_lines(
    session: Session, lines: Sequence[ImportLine], workflows: WorkflowNames, context: LineContext
) -> ChunkResult:
    """Apply one chunk inside the caller's transaction; count and explain each line."""
    result = ChunkResult()
    usable = [line for line in lines if line.problem is None]
    customers = _customer_ids(session, {line.external_id for line in usable})
    known_emails = _known_emails(session, {e for ln in usable for e in ln.account_manager_emails or ()})
    requests, requested_lines = [], []
    for line in lines:
        problem = line.problem or _problem(line, customers, known_emails, workflows)
        if problem:
            result.failures.append((line, problem))
            continue
        writes = _writes(line, workflows)
        if not writes:  # no cell to apply: nothing asked, nothing changed
            result.unchanged += 1
            continue
        cause = Cause("import_line", f"{context.import_id}:{line.line_number}", context.requested_by)
        requests.append(AssignRequest(customers[line.external_id], writes, cause))
        requested_lines.append(line)
    outcomes = AssignmentService(session).assign_many(
        requests, source=Source.CSV, occurred_at=context.occurred_at
    )
    for line, line_outcomes in zip(requested_lines, outcomes, strict=True):
        _count(result, line, line_outcomes)
    return result


def _customer_ids(session: Session, external_ids: set[str]) -> dict[str, str]:
    if not external_ids:
        return {}
    rows = session.execute(
        select(Customer.external_id, Customer.id).where(
            bulk.one_of(session, Customer.external_id, external_ids))
    )
    return {external_id: cid for external_id, cid in rows}


def _known_emails(session: Session, emails: set[str]) -> set[str]:
    if not emails:
        return set()
    return set(session.scalars(select(User.email).where(bulk.one_of(session, User.email, emails))))


def _problem(
    line: ImportLine, customers: dict[str, str], known_emails: set[str], workflows: WorkflowNames
) -> str | None:
    problems = []
    if line.external_id not in customers:
        problems.append(CUSTOMER_NOT_FOUND)
    unknown = [e for e in line.account_manager_emails or () if e not in known_emails]
    if unknown:
        problems.append(f"{USER_NOT_FOUND}: {', '.join(unknown)}")
    if line.workflow_name is not None and workflows.id_of(line.workflow_name) is None:
        problems.append(workflows.not_found(line.workflow_name))
    return "; ".join(problems) or None


def _writes(line: ImportLine, workflows: WorkflowNames) -> list[FieldWrite]:
    writes = []
    if line.workflow_name is not None:
        writes.append(FieldWrite(WORKFLOW, workflows.id_of(line.workflow_name)))
    if line.account_manager_emails is not None:
        writes.append(FieldWrite(ACCOUNT_MANAGERS, line.account_manager_emails))
    return writes


def _count(result: ChunkResult, line: ImportLine, outcomes: list[FieldOutcome]) -> None:
    refused = [o for o in outcomes if o.outcome in NOT_APPLIED]
    applied = [o for o in outcomes if o.outcome == precedence.APPLIED]
    if refused:
        result.failures.append((line, refusal_message(refused, applied, len(outcomes) > 1)))
    elif applied:
        result.updated += 1
    else:
        result.unchanged += 1


def refusal_message(
    refused: list[FieldOutcome], applied: list[FieldOutcome], several_fields: bool
) -> str:
    """'Overruled by api', naming the field when the line had several, and what did apply."""
    parts = []
    for outcome in refused:
        if outcome.outcome == precedence.REFUSED:
            text = f"Refused: {outcome.reason}"
        else:
            newer = " (a newer change)" if outcome.outcome == precedence.STALE else ""
            text = f"Overruled by {outcome.owner}{newer}"
        parts.append(text + (f" for the {FIELD_LABELS.get(outcome.field, outcome.field)}"
                             if several_fields else ""))
    parts += [APPLIED_NOTES.get(o.field, f"{o.field} was updated") for o in applied]
    return "; ".join(parts)
