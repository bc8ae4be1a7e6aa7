"""Workflows (the id is the dunningPlanId) and users."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.db.models import User, Workflow


def workflow_dict(w: Workflow) -> dict[str, Any]:
    return {"id": w.id, "dunningPlanId": w.id, "name": w.name, "description": w.description}


def user_dict(u: User) -> dict[str, Any]:
    return {"id": u.id, "email": u.email, "name": u.name, "role": u.role, "status": u.status}
