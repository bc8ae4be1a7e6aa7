"""One customer's page: profile, assignments with who owns each field and why, in-place edits and
releases (admins), the assignment history as a timeline, and the runs.

Account managers see only their own customers, as with their API key: another manager's
customer is a 404, not a 403, so its existence is not told. Every form works twice: with htmx it
swaps the assignments panel in place; without JavaScript it is a plain POST answered by a 303
back to the page, which announces the outcome from the query string it was sent back with.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from hub.context import current_hub
from hub.domain.precedence import OUTCOMES
from hub.domain.sources import RANK
from hub.errors import InvalidInput, NotFound
from hub.services.assignment import Cause
from hub.services.directory.customer_writes import CustomerWrite, release_field, update_customer
from hub.services.queries.customers import (
    EDITABLE,
    SaveReport,
    customer_profile,
    precedence_ladder,
    save_report,
)
from hub.web.pages.access import ADMINS, EVERYONE, OPS_READERS, allow, can, viewer, visible_user_id
from hub.web.pages.query import choice, integer, read_query, text, with_query

bp = Blueprint("customer_page", __name__)
REPORTED = (*OUTCOMES, "released")
PAGE_QUERY = {"hpage": integer(1, 100_000), "saved": text(200), "outcome": choice(*REPORTED),
              "by": choice(*RANK)}
ASSIGN_FORM = {"csrf_token": text(200), "field": choice(*EDITABLE), "dunningPlanId": text(64),
               "accountManagers": text(320)}  # several accountManagers: read with getlist below
RELEASE_FORM = {"csrf_token": text(200), "field": text(200)}
# Who may follow a history entry's link to its cause (the pages they lead to are theirs only).
CAUSE_READERS = {"run": OPS_READERS, "import": ADMINS, "bulk_job": ADMINS}


@bp.get("/customers/<path:ref>")
@allow(*EVERYONE)
def customer_page(ref: str):
    values = read_query(PAGE_QUERY)
    reports = []
    if values["saved"] and values["outcome"]:
        reports.append(save_report(values["saved"], values["outcome"], values["by"]))
    return render(ref, hpage=values["hpage"] or 1, reports=reports)


@bp.get("/customers/<path:ref>/edit/<field>")
@allow(*ADMINS)
def edit_field(ref: str, field: str):
    if field not in EDITABLE:
        raise NotFound(f"{field!r} cannot be edited on this page: workflow or accountManagers",
                       code="field_not_editable")
    return render(ref, editing=field)


@bp.post("/customers/<path:ref>/assign")
@allow(*ADMINS)
def assign(ref: str):
    form = read_query(ASSIGN_FORM, request.form)
    field = form["field"]
    if field is None:
        raise InvalidInput("field: say which field to save (workflow or accountManagers)")
    chosen: dict[str, Any]
    if field == "workflow":
        chosen = {"dunningPlanId": form["dunningPlanId"] or None}
    else:
        emails = [e.strip() for e in request.form.getlist("accountManagers")]
        chosen = {"accountManagers": [e for e in emails if e]}
    cause = Cause(kind="page_edit", ref=None, actor=viewer().actor)
    try:
        written = update_customer(current_hub(), ref[:300],
                                  CustomerWrite.from_payload(chosen, default_source="manual"), cause)
    except InvalidInput as refused:  # unknown workflow or email, a malformed value: nothing written
        return render(ref, editing=field, error=refused, chosen=chosen, status=refused.http_status)
    outcome = written.outcomes[0]
    return answer(ref, save_report(field, outcome.outcome, outcome.owner))


@bp.get("/customers/<path:ref>/release")
@allow(*ADMINS)
def confirm_release(ref: str):
    field = read_query({"field": text(200)})["field"]
    if not field:
        raise InvalidInput("field: say which field to release", code="parameter_invalid")
    return render(ref, releasing=field)


@bp.post("/customers/<path:ref>/release")
@allow(*ADMINS)
def release(ref: str):
    field = read_query(RELEASE_FORM, request.form)["field"] or ""
    cause = Cause(kind="page_edit", ref=None, actor=viewer().actor)
    released = release_field(current_hub(), ref[:300], api_field_of(field), cause, only_when_owned=True)
    return answer(ref, save_report(field, "released", released.outcome.owner))


def api_field_of(key: str) -> str:
    """The page's field name as the API names it; anything else is a 400, not a guess."""
    if key == "workflow":
        return "dunningPlanId"
    if key == "accountManagers" or (key.startswith("customFields.") and len(key) > len("customFields.")):
        return key
    raise InvalidInput(f"field: {key!r} is not an assignment field", code="parameter_invalid")


def answer(ref: str, report: SaveReport) -> Any:
    """htmx: the panel with the outcome (and the history, out of band); else back to the page."""
    if request.headers.get("HX-Request"):
        return render(ref, reports=[report], saved=True)
    return redirect(url_for("pages.customer_page.customer_page", ref=ref, saved=report.key,
                            outcome=report.outcome, by=report.owner, _anchor="assignments"), 303)


def render(ref: str, *, hpage: int = 1, editing: str | None = None, releasing: str | None = None,
           error: InvalidInput | None = None, chosen: dict[str, Any] | None = None,
           reports: list[SaveReport] | None = None, saved: bool = False, status: int = 200) -> Any:
    """The whole page, or for htmx the assignments panel (after a save, with the history too)."""
    admin = can(*ADMINS)
    profile = customer_profile(current_hub(), ref[:300], visible_user_id(), with_runs=can(*OPS_READERS),
                               history_page=hpage, for_editing=admin)
    if releasing is not None and not (admin and (found := profile.standing(releasing)) and found.owner):
        raise NotFound(f"{releasing!r} is not a field of this customer that a source owns",
                       code="field_not_owned")
    context = {
        "nav": "Customers", "profile": profile, "customer": profile.customer, "ref": ref,
        "editable": admin, "editing": editing, "releasing": releasing, "error": error,
        "chosen": chosen or {}, "reports": reports or [], "ladder": precedence_ladder(),
        "may_follow": {kind: can(*roles) for kind, roles in CAUSE_READERS.items()},
        "with_query": with_query,
    }
    if request.headers.get("HX-Request") and (editing or releasing or saved or error):
        template = "customers/_page_saved.html" if saved else "customers/_page_assignments.html"
        return render_template(template, **context), status
    return render_template("customers/detail.html", **context), status
