"""Workflows (dunning plans) and users."""

from __future__ import annotations

from flask import Blueprint

from hub.context import current_hub
from hub.services.directory import workflows as svc
from hub.web.api.declare import BY_ID, Api, Param, Reply, Route
from hub.web.api.shapes import array_of, ref
from hub.web.presenters.directory import user_dict, workflow_dict

bp = Blueprint("directory", __name__)
api = Api(bp)
READERS = ("admin", "integration", "account_manager")
WORKFLOW = Reply("The workflow", ref("Workflow"))
USER = Reply("The user", ref("User"))


@api.route(Route("get", "/workflows", "List workflows (the id is the dunningPlanId)", "workflows", READERS,
                 {200: Reply("Every workflow", array_of("workflows", "Workflow"))}))
def list_workflows():
    return {"workflows": [workflow_dict(w) for w in svc.list_workflows(current_hub())]}


@api.route(Route("get", "/workflows/{id}", "Get a workflow", "workflows", READERS, {200: WORKFLOW},
                 path_params=(Param("id", description="The dunningPlanId"),), errors=(404,)))
def get_workflow(id: str):
    return workflow_dict(svc.get_workflow(current_hub(), id))


@api.route(Route("post", "/workflows", "Create a workflow (names are unique)", "workflows", ("admin",),
                 {201: Reply("Created", ref("Workflow"), links={"GetWorkflow": ("get_workflows_id", BY_ID)})},
                 body="api/workflow_create.schema.json", errors=(409,)))
def create_workflow(body: dict):
    return workflow_dict(svc.create_workflow(current_hub(), body)), 201


@api.route(Route("get", "/users", "List users", "users", ("admin", "integration"),
                 {200: Reply("Every user", array_of("users", "User"))}))
def list_users():
    return {"users": [user_dict(u) for u in svc.list_users(current_hub())]}


@api.route(Route("post", "/users", "Create a user", "users", ("admin",), {201: Reply("Created", ref("User"))},
                 body="api/user_create.schema.json", errors=(409,)))
def create_user(body: dict):
    return user_dict(svc.create_user(current_hub(), body)), 201
