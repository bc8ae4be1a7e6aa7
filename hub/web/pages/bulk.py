"""Bulk actions from the customer list (admins): choose the change, confirm it knowing what it
would do (how many customers, how many a higher-ranked source keeps, and which source), apply it.
A large selection runs as a background job whose page shows its progress live.

Each step posts the selection forward unchanged: ``filter`` (the list's query string, read by the
list's own parser, so a selection means the same customers as the list showed), the ticked
``ids`` or ``all_matching=1``, and the change chosen so far."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from flask import Blueprint, redirect, render_template, request, url_for

from hub.context import current_hub
from hub.errors import InvalidInput, ValidationFailed
from hub.services.directory import bulk_jobs
from hub.services.directory.bulk_jobs import BulkChange, Selection
from hub.web.pages.access import ADMINS, CSRF_FIELD, allow, viewer
from hub.web.pages.customer_filters import read_list_query
from hub.web.pages.query import choice, read_query, text, with_query

bp = Blueprint("bulk", __name__)
ACTIONS = ("workflow", "managers")
CLEAR_WORKFLOW = "__clear__"  # the "no workflow" choice: an empty value would mean "not chosen"
FORM = {"filter": text(4000), "all_matching": choice("1"), "action": choice(*ACTIONS),
        "workflow": text(64), "mode": choice(*bulk_jobs.MODES)}
REPEATED = ("ids", "managers", CSRF_FIELD)
FIELD_LABELS = {"workflow": "workflow", "managers": "account managers"}


@bp.post("/customers/bulk")
@allow(*ADMINS)
def choose_change():
    values, selection = read_form()
    form = bulk_jobs.action_form(current_hub(), selection)
    return render_template("customers/bulk_form.html", nav="Customers", form=form, values=values,
                           selection=selection, clear_workflow=CLEAR_WORKFLOW, **links(selection))


@bp.post("/customers/bulk/preview")
@allow(*ADMINS)
def preview_change():
    values, selection = read_form()
    change = change_of(values)
    report = bulk_jobs.preview(current_hub(), selection, change)
    return render_template("customers/bulk_preview.html", nav="Customers", report=report, values=values,
                           selection=selection, change=change, inline_limit=bulk_jobs.INLINE_LIMIT,
                           field_label=FIELD_LABELS[change.action], **links(selection))


@bp.post("/customers/bulk/apply")
@allow(*ADMINS)
def apply_change():
    values, selection = read_form()
    change = change_of(values)
    started = bulk_jobs.apply_or_start(current_hub(), selection, change, viewer().actor)
    if started.job_id is not None:
        return redirect(url_for("pages.bulk.job_page", job_id=started.job_id), 303)
    return render_template("customers/bulk_result.html", nav="Customers", report=started.report,
                           change=change, field_label=FIELD_LABELS[change.action], **links(selection))


@bp.get("/customers/bulk/jobs/<int:job_id>")
@allow(*ADMINS)
def job_page(job_id: int):
    job = bulk_jobs.get_job(current_hub(), job_id)
    template = "customers/_bulk_job.html" if request.headers.get("HX-Request") else "customers/bulk_job.html"
    return render_template(template, nav="Customers", job=job, running=job.status not in bulk_jobs.FINISHED,
                           list_link=list_link(Selection.from_json(job.selection).list_query))


@bp.post("/customers/bulk/jobs/<int:job_id>/cancel")
@allow(*ADMINS)
def cancel_job(job_id: int):
    bulk_jobs.cancel_job(current_hub(), job_id)
    return redirect(url_for("pages.bulk.job_page", job_id=job_id), 303)


def read_form() -> tuple[dict[str, Any], Selection]:
    """The posted single-valued fields (unknown ones are a 400) and the selection they name."""
    single = {name: value for name, value in request.form.items() if name not in REPEATED}
    values = read_query(FORM, single)
    if values["action"] is None:
        raise InvalidInput("action: choose workflow or managers", code="parameter_invalid")
    listed = read_list_query(dict(parse_qsl(values["filter"] or "", keep_blank_values=True)))
    list_query = with_query(listed.filter_values).lstrip("?")
    selection = Selection.chosen(listed.filter, request.form.getlist("ids"), values["all_matching"] == "1",
                                 list_query)
    return values, selection


def change_of(values: dict[str, Any]) -> BulkChange:
    if values["action"] == "workflow":
        if values["workflow"] is None:
            raise ValidationFailed("choose a workflow, or “no workflow” to clear it", code="workflow_missing")
        chosen = None if values["workflow"] == CLEAR_WORKFLOW else values["workflow"]
        return BulkChange("workflow", workflow_id=chosen)
    return BulkChange("managers", mode=values["mode"] or "", emails=tuple(request.form.getlist("managers")))


def links(selection: Selection) -> dict[str, Any]:
    """The way back to the list with its filter, and the ticked rows the hidden fields carry."""
    return {"list_link": list_link(selection.list_query), "ids": selection.filter.external_ids}


def list_link(list_query: str) -> str:
    return "/customers" + ("?" + list_query if list_query else "")
