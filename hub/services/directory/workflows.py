"""Workflows (dunning plans) and users: the things assignments point at.

The functions taking the Hub are the API's use cases, each one unit of work (writes commit
themselves); the ones taking a Session serve other services inside their own transaction.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db.models import User, Workflow
from hub.errors import Conflict, ValidationFailed
from hub.services.hub import Hub
from hub.services.uow import get_row

USER_ROLES = ("admin", "ops", "account_manager", "viewer")
USER_STATUSES = ("active", "invited", "not_invited", "deactivated")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
WHITESPACE = re.compile(r"\s+")


def normalise_name(name: str) -> str:
    """Non-breaking and repeated spaces (pasted from spreadsheets) collapse to one space."""
    return WHITESPACE.sub(" ", name.replace("\u00a0", " ")).strip()


def list_workflows(hub: Hub) -> list[Workflow]:
    with hub.uow(read_only=True) as uow:
        return _workflows(uow.session)


def _workflows(session: Session) -> list[Workflow]:
    return list(session.scalars(select(Workflow).order_by(Workflow.name)))


def workflows_by_name(session: Session) -> dict[str, Workflow]:
    return {normalise_name(w.name): w for w in _workflows(session)}


def get_workflow(hub: Hub, workflow_id: str) -> Workflow:
    with hub.uow(read_only=True) as uow:
        return get_row(uow.session, Workflow, workflow_id)


def create_workflow(hub: Hub, body: dict[str, Any]) -> Workflow:
    with hub.uow() as uow:
        workflow = _new_workflow(uow.session, body)
        uow.commit()
    return workflow


def _new_workflow(session: Session, body: dict[str, Any]) -> Workflow:
    name = normalise_name(str(body.get("name") or ""))
    if not name:
        raise ValidationFailed("name is required")
    if session.scalar(select(Workflow.id).where(Workflow.name == name)):
        raise Conflict(f"a workflow named {name!r} already exists")
    wanted_id = body.get("id") or body.get("dunningPlanId")
    if wanted_id and session.get(Workflow, wanted_id):
        raise Conflict(f"dunningPlanId {wanted_id!r} already exists")
    workflow = Workflow(name=name, description=body.get("description"))
    if wanted_id:
        workflow.id = str(wanted_id)
    session.add(workflow)
    session.flush()
    return workflow


def list_users(hub: Hub) -> list[User]:
    with hub.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(User).order_by(User.email)))


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(hub: Hub, body: dict[str, Any]) -> User:
    with hub.uow() as uow:
        user = _new_user(uow.session, body)
        uow.commit()
    return user


def _new_user(session: Session, body: dict[str, Any]) -> User:
    email = str(body.get("email") or "").strip().lower()
    if not EMAIL.match(email):
        raise ValidationFailed(f"not a valid email: {email!r}")
    role = body.get("role", "account_manager")
    status = body.get("status", "active")
    if role not in USER_ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(USER_ROLES)}")
    if status not in USER_STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(USER_STATUSES)}")
    if session.scalar(select(func.count(User.id)).where(User.email == email)):
        raise Conflict(f"a user with email {email} already exists")
    user = User(email=email, name=body.get("name"), role=role, status=status)
    session.add(user)
    session.flush()
    return user
