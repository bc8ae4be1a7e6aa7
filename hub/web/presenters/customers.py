"""Customers, their assignment history, and the answers to writes and bulk assignments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.presentation import iso
from hub.services.assignment import FieldOutcome
from hub.services.directory.customer_writes import BulkAssignResult, CustomerWritten, Released
from hub.services.directory.customers import CustomerHistory
from hub.services.directory.field_names import api_field_name

if TYPE_CHECKING:  # the web layer reads rows; it never imports the database layer to run
    from hub.db.models import AssignmentHistory, Customer


def customer_dict(c: Customer) -> dict[str, Any]:
    return {
        "id": c.id,
        "externalId": c.external_id,
        "sourceSystem": c.source_system,
        "name": c.name,
        "email": c.email,
        "currency": c.currency,
        "paymentMethod": c.payment_method,
        "dunningPlanId": c.workflow_id,
        "workflowName": c.workflow.name if c.workflow else None,
        "accountManagers": [u.email for u in c.account_managers],
        "customFields": dict(c.custom_fields or {}),
        "assignments": {
            api_field_name(a.field): {"source": a.source, "changedAt": iso(a.changed_at)}
            for a in sorted(c.assignments, key=lambda a: a.field)
        },
        "createdAt": iso(c.created_at),
        "updatedAt": iso(c.updated_at),
    }


def outcomes_dict(outcomes: list[FieldOutcome]) -> dict[str, dict[str, Any]]:
    """The assignment service's decision per field, by the field's API name."""
    return {api_field_name(o.field): o.to_dict() for o in outcomes}


def written_dict(written: CustomerWritten, *, upsert: bool = False) -> dict[str, Any]:
    body = {"customer": customer_dict(written.customer), "outcomes": outcomes_dict(written.outcomes)}
    return {**body, "created": written.created} if upsert else body


def released_dict(released: Released) -> dict[str, Any]:
    return {"customer": customer_dict(released.customer), "outcome": released.outcome.to_dict()}


def history_dict(h: AssignmentHistory) -> dict[str, Any]:
    return {
        "id": h.id,
        "field": api_field_name(h.field),
        "source": h.source,
        "outcome": h.outcome,
        "reason": h.reason,
        "oldValue": h.old_value,
        "newValue": h.new_value,
        "ownerSource": h.owner_source,
        "occurredAt": iso(h.occurred_at),
        "recordedAt": iso(h.recorded_at),
        "cause": {"type": h.cause_type, "id": h.cause_id, "actor": h.actor},
    }


def history_page_dict(history: CustomerHistory) -> dict[str, Any]:
    return {"customerId": history.customer_id, "offset": history.offset, "limit": history.limit,
            "history": [history_dict(h) for h in history.rows]}


def bulk_assign_dict(result: BulkAssignResult) -> dict[str, Any]:
    return {
        "matched": result.matched,
        "outcomes": result.outcomes,
        "overruled": [{"customerId": o.customer_id, "field": api_field_name(o.field), "owner": o.owner}
                      for o in result.overruled],
        "dryRun": result.dry_run,
        "requestedBy": result.requested_by,
    }
