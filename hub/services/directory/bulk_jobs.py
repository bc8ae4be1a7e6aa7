"""Bulk assignments from the customer list: the form's choices, the read-only preview a
confirmation shows, the apply (in the request when small, else a job run chunk by chunk).

Writes go through the assignment service's batch path as source ``manual``; the preview judges
with the same ``model.decide``, so the confirmation promises what the apply does (unless the
customers change in between). A customer counts once, with one outcome for the field: ``applied``
when any of its writes applied, else the first refusal (``overruled``/``stale``, with the owner),
else ``unchanged``. Adding two managers to a customer is one change, not two.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db import bulk
from hub.db.models import BulkAssignJob, Customer, CustomerAccountManager, User, Workflow, jobs
from hub.db.models.customers import parse_changed_at
from hub.db.types import utcnow
from hub.domain import precedence
from hub.domain.precedence import Ownership
from hub.domain.sources import Source
from hub.errors import HubError, NotFound, ValidationFailed
from hub.queue import RUN_BULK_ASSIGN_JOB
from hub.services.assignment import ACCOUNT_MANAGERS, WORKFLOW, AssignmentService, AssignRequest, Cause
from hub.services.assignment.model import FieldOutcome, FieldWrite, decide, emails_of
from hub.services.directory.customer_writes import filter_from_body
from hub.services.directory.customers import CustomerFilter
from hub.services.hub import Hub
from hub.services.uow import UnitOfWork, get_row

log = logging.getLogger(__name__)
INLINE_LIMIT = 500  # selections up to this many customers are applied in the request
JOB_CHUNK = 1000  # customers per transaction of a job
PREVIEW_PAGE = 2000  # customers read per query by the preview (keyset pages: flat memory)
EXAMPLES_LISTED = 20  # refused customers named on the confirmation and result pages
MAX_IDS = 10_000
MODES = {"replace": "set", "add": "add", "remove": "remove"}
CAUSE_KIND = "bulk_assign"
FINISHED = (jobs.JOB_DONE, jobs.JOB_CANCELLED, jobs.JOB_FAILED)
NO_OWNER = Ownership(None, None)
Judged = tuple[Any, str | None, str | None]  # a field's value, its owner's source and stored time


@dataclass(frozen=True)
class BulkChange:
    """What the admin asked for: a workflow (``None`` clears it), or account managers with a mode."""

    action: str  # "workflow" | "managers"
    workflow_id: str | None = None
    mode: str = "replace"  # replace | add | remove
    emails: tuple[str, ...] = ()

    def writes(self) -> list[FieldWrite]:
        if self.action == "workflow":
            return [FieldWrite(WORKFLOW, self.workflow_id)]
        if self.action != "managers" or self.mode not in MODES:
            raise ValidationFailed("choose a workflow, or account managers to replace, add or remove")
        emails = tuple(sorted({e.strip().lower() for e in self.emails if e.strip()}))
        if self.mode == "replace":
            return [FieldWrite(ACCOUNT_MANAGERS, emails)]
        if not emails:
            raise ValidationFailed(f"choose at least one account manager to {self.mode}")
        return [FieldWrite(ACCOUNT_MANAGERS, email, op=MODES[self.mode]) for email in emails]


@dataclass(frozen=True)
class Selection:
    """The customers a bulk action is for: every one matching the list's filter, or the rows
    ticked (by external id). ``list_query`` is the list's query string, for the way back."""

    filter: CustomerFilter
    list_query: str = ""

    @classmethod
    def chosen(cls, flt: CustomerFilter, ids: Sequence[str], all_matching: bool,
               list_query: str = "") -> Selection:
        if all_matching:
            return cls(flt, list_query)
        picked = tuple(dict.fromkeys(i.strip() for i in ids if i.strip()))
        if not picked:
            raise ValidationFailed("no customer is selected: tick some rows, or select all matching",
                                   code="selection_empty")
        if len(picked) > MAX_IDS:
            raise ValidationFailed(f"at most {MAX_IDS} ticked rows; select all matching instead")
        return cls(CustomerFilter(external_ids=picked), list_query)

    def to_json(self) -> dict[str, Any]:
        """As the API's bulk-assign filter spells it (``filter_from_body`` reads it back)."""
        f = self.filter
        body = {"dunningPlanId": f.dunning_plan_id, "workflow": f.workflow_name,
                "accountManager": f.account_manager, "q": f.text, "unassigned": f.unassigned,
                "customFields": dict(f.custom_fields) or None,
                "externalIds": list(f.external_ids) if f.external_ids is not None else None}
        return {**{k: v for k, v in body.items() if v is not None}, "listQuery": self.list_query}

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> Selection:
        return cls(filter_from_body(stored), stored.get("listQuery") or "")


@dataclass
class BulkReport:
    """Customers per outcome (one each, see the module), who overrules them, and a few examples."""

    description: str = ""
    matched: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    overruled_by: dict[str, int] = field(default_factory=dict)  # owning source → customers
    examples: list[tuple[str, str, str | None]] = field(default_factory=list)  # (external id, outcome, owner)

    def count(self, external_id: str, outcome: str, owner: str | None) -> None:
        """One customer's outcome (see ``customer_outcome``) and, when refused, the field's owner."""
        self.matched += 1
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if outcome == precedence.OVERRULED:
            key = owner or "unknown"
            self.overruled_by[key] = self.overruled_by.get(key, 0) + 1
        if outcome not in (precedence.APPLIED, precedence.UNCHANGED) and len(self.examples) < EXAMPLES_LISTED:
            self.examples.append((external_id, outcome, owner))

    def of(self, outcome: str) -> int:
        return self.outcomes.get(outcome, 0)


def customer_outcome(outcomes: Sequence[FieldOutcome]) -> tuple[str, str | None]:
    """One customer's outcome for the field: applied if any write applied, else the first refusal."""
    if any(o.outcome == precedence.APPLIED for o in outcomes):
        return precedence.APPLIED, None
    for o in outcomes:
        if o.outcome != precedence.UNCHANGED:
            return o.outcome, o.owner
    return precedence.UNCHANGED, None


@dataclass(frozen=True)
class BulkForm:
    """How many customers the selection holds, and the choices for the change."""
    matched: int
    workflows: list[Workflow]
    users: list[User]


def action_form(hub: Hub, selection: Selection) -> BulkForm:
    """How many customers the selection holds, and the workflows and users to choose from."""
    with hub.uow(read_only=True) as uow:
        matched = _count(uow.session, selection.filter)
        if not matched:
            raise ValidationFailed("no customer matches this selection", code="selection_empty")
        workflows = list(uow.session.scalars(select(Workflow).order_by(Workflow.name)))
        users = list(uow.session.scalars(
            select(User).where(User.status != "deactivated").order_by(User.email)))
        return BulkForm(matched, workflows, users)


def preview(hub: Hub, selection: Selection, change: BulkChange) -> BulkReport:
    """What applying would do, judged now, writing nothing: read-only, in keyset pages. Each
    distinct (value, owner), shared by many customers, is judged once: 100,000 customers cost
    little more than reading them (about 2 s)."""
    writes = change.writes()
    now = utcnow()
    judged: dict[Judged, tuple[str, str | None]] = {}
    with hub.uow(read_only=True) as uow:
        report = BulkReport(_describe(uow.session, change, writes))
        for external_id, key in _current(uow.session, selection.filter, writes[0].field):
            if key not in judged:
                judged[key] = customer_outcome(_judge(writes, key, now))
            report.count(external_id, *judged[key])
    if not report.matched:
        raise ValidationFailed("no customer matches this selection", code="selection_empty")
    return report


def _judge(writes: Sequence[FieldWrite], key: Judged, now: datetime) -> list[FieldOutcome]:
    """The writes judged in turn as the assignment service judges them (its ``decide``)."""
    value, source, changed_at = key
    owner = _owner(source, changed_at) if source and changed_at else NO_OWNER
    value = list(value) if isinstance(value, tuple) else value
    outcomes = []
    for write in writes:
        outcome, takes_ownership = decide(write, owner, value, Source.MANUAL, now)
        if outcome.outcome == precedence.APPLIED:
            value = outcome.new
        if takes_ownership:
            owner = Ownership(Source.MANUAL, now)
        outcomes.append(outcome)
    return outcomes


def _current(session: Session, flt: CustomerFilter, name: str) -> Iterator[tuple[str, Judged]]:
    """(external id, the field's value, its owner's source and time as stored) of every selected
    customer, by external id. Only the field's owner is read out of the JSON, by the database."""
    owner = Customer.ownership[name]
    last = ""
    while True:
        page = session.execute(
            flt.apply(select(Customer.id, Customer.external_id, Customer.workflow_id,
                             owner["source"].as_string(), owner["changedAt"].as_string()))
            .where(Customer.external_id > last).order_by(Customer.external_id).limit(PREVIEW_PAGE)
        ).tuples().all()
        managers = _managers_of(session, [row[0] for row in page]) if name == ACCOUNT_MANAGERS else {}
        for customer_id, external_id, workflow_id, source, changed_at in page:
            value = tuple(sorted(managers.get(customer_id, ()))) if name == ACCOUNT_MANAGERS else workflow_id
            yield external_id, (value, source, changed_at)
        if len(page) < PREVIEW_PAGE:
            return
        last = page[-1][1]


def _managers_of(session: Session, customer_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for customer_id, email in session.execute(
        select(CustomerAccountManager.customer_id, User.email)
        .join(User, User.id == CustomerAccountManager.user_id)
        .where(bulk.one_of(session, CustomerAccountManager.customer_id, customer_ids))
    ):
        found.setdefault(customer_id, []).append(email)
    return found


@functools.lru_cache(maxsize=1024)
def _owner(source: str, changed_at: str) -> Ownership:
    """Parsed once: a selection meets the same few owners over and over."""
    return Ownership(source, parse_changed_at(changed_at))


def _describe(session: Session, change: BulkChange, writes: Sequence[FieldWrite]) -> str:
    """The change in words, after refusing an unknown workflow or user before anything is read."""
    if change.action == "workflow":
        if change.workflow_id is None:
            return "Clear the workflow"
        workflow = session.get(Workflow, change.workflow_id)
        if workflow is None:
            raise ValidationFailed(f"unknown workflow {change.workflow_id!r}", code="unknown_workflow")
        return f"Assign the workflow {workflow.name} ({workflow.id})"
    emails = sorted({e for w in writes for e in emails_of(w)})
    known = set(session.scalars(select(User.email).where(User.email.in_(emails)))) if emails else set()
    if missing := [e for e in emails if e not in known]:
        raise ValidationFailed(f"unknown user email(s): {', '.join(missing)}", code="unknown_user")
    listed = ", ".join(emails) or "nobody"
    return {"replace": f"Replace the account managers with {listed}",
            "add": f"Add {listed} to the account managers",
            "remove": f"Remove {listed} from the account managers"}[change.mode]


# -- applying ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkStarted:
    """A small selection's result (``report``), or the job that applies a large one."""
    report: BulkReport | None = None
    job_id: int | None = None


def apply_or_start(hub: Hub, selection: Selection, change: BulkChange, actor: str) -> BulkStarted:
    """Up to INLINE_LIMIT customers now, in one transaction; more as a background job."""
    writes = change.writes()
    with hub.uow() as uow:
        report = BulkReport(_describe(uow.session, change, writes))
        rows = _next_customers(uow.session, selection.filter, "", INLINE_LIMIT + 1)
        if not rows:
            raise ValidationFailed("no customer matches this selection", code="selection_empty")
        if len(rows) > INLINE_LIMIT:
            job = BulkAssignJob(selection=selection.to_json(), writes=[asdict(w) for w in writes],
                                requested_by=actor, outcomes={}, overruled_by={})
            uow.session.add(job)
            uow.session.flush()
            job_id = job.id
            uow.after_commit(lambda: hub.queue.enqueue(RUN_BULK_ASSIGN_JOB, job_id))
            uow.commit()
            return BulkStarted(job_id=job_id)
        _apply(uow.session, rows, writes, Cause(CAUSE_KIND, actor=actor), report)
        uow.commit()
    return BulkStarted(report=report)


def _next_customers(session: Session, flt: CustomerFilter, after: str, limit: int) -> list[tuple[str, str]]:
    """(id, external id) of the next ``limit`` selected customers after external id ``after``."""
    rows = session.execute(flt.apply(select(Customer.id, Customer.external_id))
                           .where(Customer.external_id > after)
                           .order_by(Customer.external_id).limit(limit))
    return [(row.id, row.external_id) for row in rows]


def _apply(session: Session, rows: Sequence[tuple[str, str]], writes: Sequence[FieldWrite], cause: Cause,
           report: BulkReport) -> None:
    requests = [AssignRequest(customer_id, writes, cause) for customer_id, _ in rows]
    results = AssignmentService(session).assign_many(requests, source=Source.MANUAL, occurred_at=utcnow())
    for (_, external_id), outcomes in zip(rows, results, strict=True):
        report.count(external_id, *customer_outcome(outcomes))


def _count(session: Session, flt: CustomerFilter) -> int:
    return session.scalar(flt.apply(select(func.count(Customer.id)))) or 0


# -- the job -------------------------------------------------------------------------------


def get_job(hub: Hub, job_id: int) -> BulkAssignJob:
    with hub.uow(read_only=True) as uow:
        return _job(uow.session, job_id, lock=False)


def _job(session: Session, job_id: int, lock: bool = True) -> BulkAssignJob:
    return get_row(session, BulkAssignJob, job_id, lock=lock, what="bulk assign job", code="job_not_found")


def cancel_job(hub: Hub, job_id: int) -> BulkAssignJob:
    """A queued job is cancelled at once; a running one stops after its current chunk."""
    with hub.uow() as uow:
        job = _job(uow.session, job_id)
        if job.status not in FINISHED:
            job.cancel_requested = True
        if job.status == jobs.JOB_QUEUED:
            job.status, job.finished_at = jobs.JOB_CANCELLED, utcnow()
        uow.commit()
        return job


def run_bulk_assign_job(hub: Hub, job_id: int) -> str:
    """The worker side: claim the job, then one transaction per chunk until done or cancelled.

    Resumable: a redelivered job (still ``running``) continues after its last committed chunk."""
    try:
        status, cursor = _claim(hub, job_id)
    except NotFound:
        return "gone"
    while status == jobs.JOB_RUNNING:
        status, cursor = _next_chunk(hub, job_id, cursor)
    return status


def _claim(hub: Hub, job_id: int) -> tuple[str, str | None]:
    """queued → running with the total counted now; a running job (a redelivery) as it is."""
    with hub.uow() as uow:
        job = _job(uow.session, job_id)
        if job.status == jobs.JOB_QUEUED:
            job.total = _count(uow.session, Selection.from_json(job.selection).filter)
            job.status, job.started_at = jobs.JOB_RUNNING, utcnow()
            uow.commit()
        return job.status, job.cursor


def _next_chunk(hub: Hub, job_id: int, cursor: str | None) -> tuple[str, str | None]:
    """Apply the chunk after ``cursor`` and record it, in one transaction under the job's lock. If
    the cursor moved since this worker read it, another delivery committed a chunk meanwhile:
    nothing is applied, the caller goes on from the new cursor. No chunk is applied twice."""
    with hub.uow() as uow:
        job = _job(uow.session, job_id)
        if job.status != jobs.JOB_RUNNING or job.cursor != cursor:
            return job.status, job.cursor
        if job.cancel_requested:
            return _finish(uow, job, jobs.JOB_CANCELLED)
        flt = Selection.from_json(job.selection).filter
        rows = _next_customers(uow.session, flt, cursor or "", JOB_CHUNK)
        if not rows:
            return _finish(uow, job, jobs.JOB_DONE)
        report = BulkReport(outcomes=dict(job.outcomes or {}), overruled_by=dict(job.overruled_by or {}))
        cause = Cause(CAUSE_KIND, ref=f"bulk_job:{job.id}", actor=job.requested_by)
        try:
            _apply(uow.session, rows, [FieldWrite(**w) for w in job.writes], cause, report)
        except HubError as exc:
            if exc.retryable:
                raise  # the database is away: Celery retries, and the job resumes at its cursor
            failure = exc.message
        else:
            job.outcomes, job.overruled_by = report.outcomes, report.overruled_by
            job.cursor, job.processed = rows[-1][1], job.processed + len(rows)
            uow.commit()
            return job.status, job.cursor
    return _fail(hub, job_id, failure)


def _finish(uow: UnitOfWork, job: BulkAssignJob, status: str) -> tuple[str, str | None]:
    job.status, job.finished_at = status, utcnow()
    uow.commit()
    return status, job.cursor


def _fail(hub: Hub, job_id: int, message: str) -> tuple[str, str | None]:
    """A refusal (a user or workflow removed since the confirmation): the chunk rolled back."""
    log.warning("bulk assign job %s failed: %s", job_id, message)
    with hub.uow() as uow:
        job = _job(uow.session, job_id)
        job.message = message
        return _finish(uow, job, jobs.JOB_FAILED)
