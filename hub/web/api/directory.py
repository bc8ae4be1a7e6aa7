"""Workflows (dunning plans) and users."""

from __future__ import annotations

from flask import Blueprint

from hub.services import directory as svc
from hub.services.representation import user_dict, workflow_dict
from hub.web.context import current_hub, json_body, require

bp = Blueprint("directory", __name__)
OPERATIONS = [
    ("get", "/workflows", "List workflows (the id is the dunningPlanId)", "workflows", None),
    ("post", "/workflows", "Create a workflow (names are unique)", "workflows", None),
    ("get", "/workflows/{id}", "Get a workflow", "workflows", None),
    ("get", "/users", "List users", "users", None),
    ("post", "/users", "Create a user", "users", None),
]
READERS = ("admin", "integration", "account_manager")


@bp.get("/workflows")
@require(*READERS)
def list_workflows():
    with current_hub().uow() as uow:
        return {"workflows": [workflow_dict(w) for w in svc.list_workflows(uow.session)]}


@bp.get("/workflows/<workflow_id>")
@require(*READERS)
def get_workflow(workflow_id: str):
    with current_hub().uow() as uow:
        return workflow_dict(svc.get_workflow(uow.session, workflow_id))


@bp.post("/workflows")
@require("admin")
def create_workflow():
    body = json_body()
    with current_hub().uow() as uow:
        workflow = svc.create_workflow(uow.session, body if isinstance(body, dict) else {})
        uow.commit()
        return workflow_dict(workflow), 201


@bp.get("/users")
@require("admin", "integration")
def list_users():
    with current_hub().uow() as uow:
        return {"users": [user_dict(u) for u in svc.list_users(uow.session)]}


@bp.post("/users")
@require("admin")
def create_user():
    body = json_body()
    with current_hub().uow() as uow:
        user = svc.create_user(uow.session, body if isinstance(body, dict) else {})
        uow.commit()
        return user_dict(user), 201
