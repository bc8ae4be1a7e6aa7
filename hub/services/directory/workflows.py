"""Workflows (dunning plans) and users: the things assignments point at.

The functions taking the Hub are the API's use cases, each one unit of work (writes commit
themselves); the ones taking a Session serve other services inside their own transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db.models import Customer, CustomerAccountManager, User, Workflow
from hub.db.types import utcnow
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
    # Refused too when the names differ only in case ("standard" beside "Standard"): people pick
    # workflows by name in CSV files and recipes, where two such names would be taken for one.
    taken = next((w.name for w in _workflows(session)
                  if normalise_name(w.name).casefold() == name.casefold()), None)
    if taken is not None:
        raise Conflict(f"a workflow named {taken!r} already exists (names are compared ignoring "
                       "case and spaces)")
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
        user = new_user(uow.session, body)
        uow.commit()
    return user


def new_user(session: Session, body: dict[str, Any]) -> User:
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


@dataclass(frozen=True)
class WorkflowRow:
    """A workflow as the workflows page lists it, with the customers on it the viewer may see."""

    workflow: Workflow
    customers: int


def workflows_with_counts(hub: Hub, visible_to_user_id: str | None) -> list[WorkflowRow]:
    """Every workflow with its number of customers, counted in one grouped query (not one per
    workflow); an account manager's counts include only their own customers, as everywhere."""
    counted = (select(Customer.workflow_id, func.count(Customer.id))
               .where(Customer.workflow_id.is_not(None)).group_by(Customer.workflow_id))
    if visible_to_user_id:
        counted = counted.where(Customer.id.in_(
            select(CustomerAccountManager.customer_id)
            .where(CustomerAccountManager.user_id == visible_to_user_id)))
    with hub.uow(read_only=True) as uow:
        counts: dict[str | None, int] = dict(uow.session.execute(counted).tuples().all())
        return [WorkflowRow(w, counts.get(w.id, 0)) for w in _workflows(uow.session)]


def add_workflow(hub: Hub, name: str, description: str | None) -> Workflow:
    """The workflows page's "New workflow": the API's create_workflow, from a form's fields."""
    return create_workflow(hub, {"name": name, "description": description or None})


@dataclass(frozen=True)
class UserRow:
    """A user as the users page lists them: no hashes, only what an admin decides on."""

    email: str
    name: str | None
    role: str
    status: str
    can_sign_in: bool  # has a password and is not deactivated
    invite_expires_at: datetime | None  # an open invite only
    invite_expired: bool  # an invite was sent and ran out unused
    customers: int  # customers they manage


def users_with_counts(hub: Hub) -> list[UserRow]:
    """Every user with the number of customers they manage, counted in one grouped query."""
    counted = (select(CustomerAccountManager.user_id, func.count(CustomerAccountManager.customer_id))
               .group_by(CustomerAccountManager.user_id))
    now = utcnow()
    with hub.uow(read_only=True) as uow:
        counts: dict[str, int] = dict(uow.session.execute(counted).tuples().all())
        users = list(uow.session.scalars(select(User).order_by(User.email)))
    return [_user_row(u, counts.get(u.id, 0), now) for u in users]


def _user_row(user: User, customers: int, now: datetime) -> UserRow:
    expires = user.invite_expires_at if user.invite_hash is not None else None
    return UserRow(
        email=user.email, name=user.name, role=user.role, status=user.status,
        can_sign_in=user.password_hash is not None and user.status != "deactivated",
        invite_expires_at=expires if expires is not None and expires >= now else None,
        invite_expired=expires is not None and expires < now,
        customers=customers)
