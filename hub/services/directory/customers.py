"""Customer use cases: find, list with filters, create or update, bulk-assign by filter."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from hub.db.models import Customer, CustomerAccountManager, User, Workflow
from hub.db.types import utcnow
from hub.errors import NotFound, ValidationFailed
from hub.services.assignment import (
    ACCOUNT_MANAGERS,
    CUSTOM_PREFIX,
    WORKFLOW,
    AssignmentService,
    AssignRequest,
    Cause,
    FieldOutcome,
    FieldWrite,
)
from hub.services.payloads import parse_time, validate
from hub.services.representation import api_field_name

PROFILE_FIELDS = {
    "name": "name",
    "email": "email",
    "currency": "currency",
    "paymentMethod": "payment_method",
    "sourceSystem": "source_system",
}
MAX_LIMIT = 500
BULK_CHUNK = 1000


@dataclass(frozen=True)
class CustomerFilter:
    dunning_plan_id: str | None = None
    workflow_name: str | None = None
    account_manager: str | None = None
    text: str | None = None
    external_ids: tuple[str, ...] | None = None
    custom_fields: dict[str, str] = field(default_factory=dict)
    unassigned: bool | None = None
    visible_to_user_id: str | None = None  # account_manager keys see only their customers

    def apply(self, stmt: Select) -> Select:
        conditions = []
        if self.dunning_plan_id:
            conditions.append(Customer.workflow_id == self.dunning_plan_id)
        if self.workflow_name:
            names = select(Workflow.id).where(Workflow.name == self.workflow_name)
            conditions.append(Customer.workflow_id.in_(names))
        if self.unassigned:
            conditions.append(Customer.workflow_id.is_(None))
        if self.account_manager:
            conditions.append(Customer.id.in_(_managed_by_email(self.account_manager)))
        if self.visible_to_user_id:
            conditions.append(Customer.id.in_(_managed_by_user(self.visible_to_user_id)))
        if self.text:
            pattern = f"%{self.text.lower()}%"
            conditions.append(
                or_(
                    func.lower(Customer.name).like(pattern),
                    func.lower(Customer.email).like(pattern),
                    func.lower(Customer.external_id).like(pattern),
                )
            )
        if self.external_ids is not None:
            conditions.append(Customer.external_id.in_(self.external_ids))
        for key, value in self.custom_fields.items():
            conditions.append(Customer.custom_fields[key].as_string() == value)
        return stmt.where(and_(*conditions)) if conditions else stmt


def _managed_by_user(user_id: str) -> Select:
    return select(CustomerAccountManager.customer_id).where(
        CustomerAccountManager.user_id == user_id
    )


def _managed_by_email(email: str) -> Select:
    return (
        select(CustomerAccountManager.customer_id)
        .join(User, User.id == CustomerAccountManager.user_id)
        .where(User.email == email.strip().lower())
    )


def list_customers(
    session: Session, flt: CustomerFilter, offset: int, limit: int
) -> tuple[int, list[Customer]]:
    total = session.scalar(flt.apply(select(func.count(Customer.id)))) or 0
    stmt = flt.apply(select(Customer)).order_by(Customer.external_id).offset(offset).limit(limit)
    return total, list(session.scalars(stmt).unique())


def iter_customers(session: Session, flt: CustomerFilter, batch: int = 1000) -> Iterator[Customer]:
    """Every matching customer, by keyset pages so memory stays flat on large exports."""
    last = ""
    while True:
        stmt = (
            flt.apply(select(Customer))
            .where(Customer.external_id > last)
            .order_by(Customer.external_id)
            .limit(batch)
        )
        page = list(session.scalars(stmt).unique())
        yield from page
        if len(page) < batch:
            return
        last = page[-1].external_id
        session.expunge_all()


def find_customer(session: Session, ref: str, visible_to_user_id: str | None = None) -> Customer:
    """By hub id, or by external id written as ``external:{externalId}``."""
    if ref.startswith("external:"):
        stmt = select(Customer).where(Customer.external_id == ref[len("external:") :])
    else:
        stmt = select(Customer).where(Customer.id == ref)
    if visible_to_user_id:
        stmt = stmt.where(Customer.id.in_(_managed_by_user(visible_to_user_id)))
    customer = session.scalars(stmt).unique().one_or_none()
    if customer is None:
        raise NotFound(f"customer {ref} not found", code="customer_not_found")
    return customer


@dataclass(frozen=True)
class CustomerWrite:
    """A validated PUT/POST body split into profile fields and assignment writes."""

    external_id: str | None
    profile: dict[str, Any]
    writes: list[FieldWrite]
    source: str
    occurred_at: datetime

    @classmethod
    def from_payload(cls, payload: Any, default_source: str = "api") -> CustomerWrite:
        body = validate("api/customer_write.schema.json", payload)
        writes = []
        if "dunningPlanId" in body:
            writes.append(FieldWrite(WORKFLOW, body["dunningPlanId"]))
        if "accountManagers" in body:
            writes.append(FieldWrite(ACCOUNT_MANAGERS, tuple(body["accountManagers"])))
        for key, value in (body.get("customFields") or {}).items():
            writes.append(FieldWrite(CUSTOM_PREFIX + key, value))
        occurred = parse_time(body["occurredAt"]) if "occurredAt" in body else utcnow()
        profile = {attr: body[name] for name, attr in PROFILE_FIELDS.items() if name in body}
        return cls(body.get("externalId"), profile, writes, body.get("source", default_source),
                   occurred)


def apply_write(
    session: Session, customer: Customer, write: CustomerWrite, cause: Cause
) -> dict[str, dict[str, Any]]:
    """Profile fields are plain data; assignments go through the assignment service."""
    for attr, value in write.profile.items():
        setattr(customer, attr, value.lower() if attr == "currency" and value else value)
    outcomes: list[FieldOutcome] = []
    if write.writes:
        outcomes = AssignmentService(session).assign(
            customer.id,
            write.writes,
            source=write.source,
            occurred_at=write.occurred_at,
            cause=cause,
        )
    return {api_field_name(o.field): o.to_dict() for o in outcomes}


def upsert_customer(session: Session, write: CustomerWrite) -> tuple[Customer, bool]:
    """Find the customer by externalId, creating it when absent; returns (customer, created)."""
    if not write.external_id:
        raise ValidationFailed("externalId is required", code="external_id_required")
    found = session.scalars(
        select(Customer).where(Customer.external_id == write.external_id)
    ).unique().one_or_none()
    if found is not None:
        return found, False
    customer = Customer(external_id=write.external_id, custom_fields={})
    session.add(customer)
    session.flush()
    return customer, True


OVERRULED_LISTED = 100  # a dry run names at most this many customers a higher source would keep


def bulk_assign_from_body(session: Session, body: dict[str, Any], cause: Cause) -> dict[str, Any]:
    """POST /customers/bulk-assign: refuse an empty filter unless ``all``; a ``dryRun`` changes nothing
    (the caller rolls back) but reports what would happen, and who would overrule whom."""
    if not any(v not in (None, "", [], {}) for v in body["filter"].values()) and not body.get("all"):
        raise ValidationFailed("an empty filter matches every customer; send \"all\": true to mean that",
                               code="filter_empty")
    values = {k: v for k, v in body.items() if k not in ("filter", "all", "dryRun", "workflow")}
    if "workflow" in body:
        values["dunningPlanId"] = _workflow_id_by_name(session, body["workflow"])
    write = CustomerWrite.from_payload(values)
    result = bulk_assign(session, filter_from_body(body["filter"]), write, cause)
    return {**result, "dryRun": bool(body.get("dryRun"))}


def _workflow_id_by_name(session: Session, name: str) -> str:
    from hub.services.directory.workflows import normalise_name, workflows_by_name

    workflow = workflows_by_name(session).get(normalise_name(name))
    if workflow is None:
        raise ValidationFailed(f"no workflow named {name!r}", code="unknown_workflow")
    return workflow.id


def bulk_assign(
    session: Session, flt: CustomerFilter, write: CustomerWrite, cause: Cause
) -> dict[str, Any]:
    """Assign to every customer matching the filter as source ``manual``; counts per outcome, and
    the first customers whose field a higher-ranked source keeps (with that source)."""
    counts: dict[str, int] = {}
    overruled: list[dict[str, Any]] = []
    ids = list(session.scalars(flt.apply(select(Customer.id)).order_by(Customer.external_id)))
    service = AssignmentService(session)
    for start in range(0, len(ids), BULK_CHUNK):  # the batch path the CSV import uses
        chunk = ids[start:start + BULK_CHUNK]
        requests = [AssignRequest(cid, write.writes, cause) for cid in chunk]
        results = service.assign_many(requests, source="manual", occurred_at=write.occurred_at)
        for customer_id, outcomes in zip(chunk, results, strict=True):
            for outcome in outcomes:
                counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
                if outcome.outcome == "overruled" and len(overruled) < OVERRULED_LISTED:
                    overruled.append({"customerId": customer_id, "field": api_field_name(outcome.field),
                                      "owner": outcome.owner})
    return {"matched": len(ids), "outcomes": counts, "overruled": overruled}


def internal_field_name(api_name: str) -> str:
    if api_name == "dunningPlanId":
        return WORKFLOW
    if api_name == "accountManagers":
        return ACCOUNT_MANAGERS
    return CUSTOM_PREFIX + api_name[len("customFields.") :]


def filter_from_body(body: dict[str, Any]) -> CustomerFilter:
    ids = body.get("externalIds")
    return CustomerFilter(
        dunning_plan_id=body.get("dunningPlanId"),
        workflow_name=body.get("workflow"),
        account_manager=body.get("accountManager"),
        text=body.get("q"),
        external_ids=tuple(ids) if ids is not None else None,
        custom_fields=dict(body.get("customFields") or {}),
        unassigned=body.get("unassigned"),
    )


EXPORT_COLUMNS = ("External Id", "Name", "Account manager email", "Workflow name")


def export_file(session: Session, flt: CustomerFilter) -> tuple[BinaryIO, int]:
    """export.csv, written whole (UTF-8 with a BOM, cells escaped as the API's), rewound; its size."""
    from hub.csvfile.report import iter_csv, spool

    return spool(iter_csv(EXPORT_COLUMNS, export_rows(session, flt)))


def export_rows(session: Session, flt: CustomerFilter, batch: int = 2000) -> Iterator[list[str]]:
    """Rows for export.csv, in the columns the CSV import reads back (Name is informative).

    Plain rows by keyset pages, the managers of a page in one query: no ORM objects, so 100,000
    customers export in a few seconds and memory stays flat.
    """
    from hub.csvfile.report import format_emails

    last = ""
    while True:
        page = session.execute(
            flt.apply(select(Customer.id, Customer.external_id, Customer.name, Workflow.name)
                      .outerjoin(Workflow, Workflow.id == Customer.workflow_id))
            .where(Customer.external_id > last).order_by(Customer.external_id).limit(batch)
        ).all()
        managers: dict[str, list[str]] = {}
        for customer_id, email in session.execute(
            select(CustomerAccountManager.customer_id, User.email)
            .join(User, User.id == CustomerAccountManager.user_id)
            .where(CustomerAccountManager.customer_id.in_([row[0] for row in page]))
            .order_by(User.email)
        ):
            managers.setdefault(customer_id, []).append(email)
        for customer_id, external_id, name, workflow in page:
            yield [external_id, name or "", format_emails(managers.get(customer_id, [])), workflow or ""]
        if len(page) < batch:
            return
        last = page[-1][1]
