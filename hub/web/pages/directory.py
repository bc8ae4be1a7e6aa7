"""The workflows page (everyone signed in: each dunningPlanId to copy and the customers on it;
admins create workflows) and the users page (admins: who can sign in, and invites whose link is
shown once, since only its hash is kept)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from hub.context import current_hub
from hub.errors import Conflict, InvalidInput
from hub.services.directory import sign_in
from hub.services.directory import workflows as svc
from hub.web.pages.access import ADMINS, CSRF_FIELD, EVERYONE, allow, visible_user_id
from hub.web.pages.query import Parser, choice, read_query, text

bp = Blueprint("directory", __name__)
WORKFLOWS_QUERY = {"created": text(64)}
WORKFLOW_FORM = {"name": text(200), "description": text(2000)}
INVITE_FORM = {"email": text(320), "name": text(200), "role": choice(*svc.USER_ROLES)}


def posted(allowed: dict[str, Parser]) -> dict[str, Any]:
    """The posted form's fields, less its CSRF token, checked like a query string."""
    return read_query(allowed, source={k: v for k, v in request.form.items() if k != CSRF_FIELD})


def entered(allowed: dict[str, Parser]) -> dict[str, str]:
    """What the user typed, to put back in a refused form."""
    return {name: request.form.get(name, "") for name in allowed}


@bp.get("/workflows")
@allow(*EVERYONE)
def workflow_list():
    return workflows_page(created=read_query(WORKFLOWS_QUERY)["created"])


@bp.post("/workflows")
@allow(*ADMINS)
def create_workflow():
    try:
        values = posted(WORKFLOW_FORM)
        workflow = svc.add_workflow(current_hub(), values["name"] or "", values["description"])
    except (InvalidInput, Conflict) as refused:
        return workflows_page(form=entered(WORKFLOW_FORM), error=refused.message,
                              status=refused.http_status)
    return redirect(url_for("pages.directory.workflow_list", created=workflow.id), 303)


def workflows_page(created: str | None = None, form: dict[str, str] | None = None,
                   error: str | None = None, status: int = 200) -> tuple[str, int]:
    scope = visible_user_id()
    rows = svc.workflows_with_counts(current_hub(), scope)
    return render_template("directory/workflows.html", nav="Workflows", rows=rows, created=created,
                           own_only=scope is not None, form=form or {}, error=error), status


@bp.get("/users")
@allow(*ADMINS)
def user_list():
    read_query({})
    return users_page()


@bp.post("/users/invite")
@allow(*ADMINS)
def invite_user():
    """From the invite form (email, name, role) or a row's "New invite link" (email only)."""
    try:
        values = posted(INVITE_FORM)
        invitation = sign_in.invite_new_user(current_hub(), values["email"] or "", values["name"],
                                             values["role"])
    except (InvalidInput, Conflict) as refused:
        return users_page(form=entered(INVITE_FORM), error=refused.message, status=refused.http_status)
    return users_page(invitation=invitation, asked_role=values["role"], link=invite_link(invitation.token))


def invite_link(token: str) -> str:
    """On HUB_PUBLIC_URL when set (as `hub users invite` prints it), else on the host asked."""
    base = current_hub().settings.public_url or request.host_url
    return base.rstrip("/") + url_for("pages.sign_in.invite_form", token=token)


def users_page(form: dict[str, str] | None = None, error: str | None = None, status: int = 200,
               **invited: Any) -> tuple[str, int]:
    rows = svc.users_with_counts(current_hub())
    return render_template("directory/users.html", nav="Users", rows=rows, roles=svc.USER_ROLES,
                           form=form or {}, error=error, invite_hours=current_hub().settings.invite_hours,
                           **invited), status
