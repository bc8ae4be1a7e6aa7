"""How domain objects look in the API (camelCase, contract names such as dunningPlanId)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.db.models import ApiKey, AssignmentHistory, Customer, User, Workflow

# Internal field names ↔ API names.
API_FIELD = {"workflow": "dunningPlanId", "account_managers": "accountManagers"}


def api_field_name(field: str) -> str:
    if field.startswith("custom_fields."):
        return "customFields." + field[len("custom_fields.") :]
    return API_FIELD.get(field, field)


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


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


def workflow_dict(w: Workflow) -> dict[str, Any]:
    return {"id": w.id, "dunningPlanId": w.id, "name": w.name, "description": w.description}


def user_dict(u: User) -> dict[str, Any]:
    return {"id": u.id, "email": u.email, "name": u.name, "role": u.role, "status": u.status}


def key_dict(k: ApiKey) -> dict[str, Any]:
    return {
        "id": k.id,
        "name": k.name,
        "prefix": k.prefix,
        "role": k.role,
        "userId": k.user_id,
        "createdAt": iso(k.created_at),
        "revokedAt": iso(k.revoked_at),
    }
