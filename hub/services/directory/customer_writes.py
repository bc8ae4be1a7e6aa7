"""Writing customers from the API: update one, create or update by externalId, release a field,
bulk-assign by filter.

Profile fields are plain data; assignments always go through the assignment service (the one
writer of workflows, account managers and custom fields). Each use case is one unit of work that
commits itself (a dry run never does) and returns the customer loaded as the commit left it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.models import Customer
from hub.db.types import utcnow
from hub.errors import Conflict, ValidationFailed
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
from hub.services.directory.customers import CustomerFilter, find_customer
from hub.services.directory.field_names import internal_field_name
from hub.services.hub import Hub
from hub.services.payloads import parse_time, validate
from hub.services.uow import fully_loaded

PROFILE_FIELDS = {
    "name": "name",
    "email": "email",
    "currency": "currency",
    "paymentMethod": "payment_method",
    "sourceSystem": "source_system",
}
BULK_CHUNK = 1000
OVERRULED_LISTED = 100  # a dry run names at most this many customers a higher source would keep


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


@dataclass(frozen=True)
class CustomerWritten:
    """The customer after a write, and what the assignment service decided per field."""

    customer: Customer
    outcomes: list[FieldOutcome]
    created: bool = False


def update_customer(hub: Hub, ref: str, write: CustomerWrite, cause: Cause) -> CustomerWritten:
    """PUT /customers/{id}."""
    with hub.uow() as uow:
        customer = find_customer(uow.session, ref)
        outcomes = apply_write(uow.session, customer, write, cause)
        fully_loaded(uow.session, customer)
        uow.commit()
    return CustomerWritten(customer, outcomes)


def create_or_update_customer(hub: Hub, write: CustomerWrite, cause: Cause) -> CustomerWritten:
    """POST /customers: the customer with this externalId, created when absent."""
    with hub.uow() as uow:
        customer, created = upsert_customer(uow.session, write)
        outcomes = apply_write(uow.session, customer, write, cause)
        fully_loaded(uow.session, customer)
        uow.commit()
    return CustomerWritten(customer, outcomes, created)


def apply_write(
    session: Session, customer: Customer, write: CustomerWrite, cause: Cause
) -> list[FieldOutcome]:
    """Profile fields are plain data; assignments go through the assignment service."""
    for attr, value in write.profile.items():
        setattr(customer, attr, value.lower() if attr == "currency" and value else value)
    if not write.writes:
        return []
    return AssignmentService(session).assign(
        customer.id,
        write.writes,
        source=write.source,
        occurred_at=write.occurred_at,
        cause=cause,
    )


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


@dataclass(frozen=True)
class Released:
    customer: Customer
    outcome: FieldOutcome


def release_field(hub: Hub, ref: str, api_field: str, cause: Cause, *,
                  only_when_owned: bool = False) -> Released:
    """Hand a field (named as the API names it) back to the lowest rank (admins).

    ``only_when_owned`` (the customer page): a field no source owns has nothing to release, so
    a second click on a stale page is a Conflict instead of a second "released" history entry."""
    with hub.uow() as uow:
        customer = find_customer(uow.session, ref)
        field = internal_field_name(api_field)
        if only_when_owned and field not in (customer.ownership or {}):
            raise Conflict(f"{api_field} has no owner to release", code="field_not_owned")
        outcome = AssignmentService(uow.session).release(customer.id, field, cause=cause)
        fully_loaded(uow.session, customer)
        uow.commit()
    return Released(customer, outcome)


# -- bulk ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overruled:
    """A customer whose field a higher-ranked source keeps."""

    customer_id: str
    field: str
    owner: str | None


@dataclass(frozen=True)
class BulkAssignResult:
    matched: int
    outcomes: dict[str, int]  # outcome -> how many fields
    overruled: list[Overruled]  # the first OVERRULED_LISTED
    dry_run: bool
    requested_by: str | None


def bulk_assign_from_body(hub: Hub, body: dict[str, Any], cause: Cause) -> BulkAssignResult:
    """POST /customers/bulk-assign: refuse an empty filter unless ``all``; a ``dryRun`` changes
    nothing (it is never committed) but reports what would happen, and who would overrule whom."""
    if not any(v not in (None, "", [], {}) for v in body["filter"].values()) and not body.get("all"):
        raise ValidationFailed("an empty filter matches every customer; send \"all\": true to mean that",
                               code="filter_empty")
    dry_run = bool(body.get("dryRun"))
    with hub.uow() as uow:
        values = {k: v for k, v in body.items() if k not in ("filter", "all", "dryRun", "workflow")}
        if "workflow" in body:
            values["dunningPlanId"] = _workflow_id_by_name(uow.session, body["workflow"])
        write = CustomerWrite.from_payload(values)
        matched, counts, overruled = bulk_assign(uow.session, filter_from_body(body["filter"]), write, cause)
        if not dry_run:
            uow.commit()  # a dry run leaves the block uncommitted: everything rolls back
    return BulkAssignResult(matched, counts, overruled, dry_run, cause.actor)


def _workflow_id_by_name(session: Session, name: str) -> str:
    from hub.services.directory.workflows import normalise_name, workflows_by_name

    workflow = workflows_by_name(session).get(normalise_name(name))
    if workflow is None:
        raise ValidationFailed(f"no workflow named {name!r}", code="unknown_workflow")
    return workflow.id


def bulk_assign(
    session: Session, flt: CustomerFilter, write: CustomerWrite, cause: Cause
) -> tuple[int, dict[str, int], list[Overruled]]:
    """Assign to every customer matching the filter as source ``manual``: how many matched, the
    counts per outcome, and the first customers whose field a higher-ranked source keeps."""
    counts: dict[str, int] = {}
    overruled: list[Overruled] = []
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
                    overruled.append(Overruled(customer_id, outcome.field, outcome.owner))
    return len(ids), counts, overruled


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
