"""The customer list: filters, sortable columns the user chooses and orders, paging, saved views,
the CSV export of the current filter, and (for admins) the selection form of the bulk actions.

Everything the list shows is in its URL, so a view is a link and a saved view is a stored query
string. Account managers see only their own customers, as with their API key: in the rows, the
count, the export and the selection.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, redirect, render_template, request

from hub.context import current_hub
from hub.errors import Conflict, InvalidInput, NotFound
from hub.services.directory import customers as directory
from hub.services.directory import saved_views as views_svc
from hub.services.queries import customer_list as svc
from hub.web.downloads import csv_download
from hub.web.pages.access import EVERYONE, allow, viewer, visible_user_id
from hub.web.pages.customer_filters import ListQuery, read_list_query
from hub.web.pages.query import choice, integer, read_query, text, with_query

bp = Blueprint("customers", __name__)
PAGE_SIZE = 50
# The workflow select's "Unassigned" choice; the list redirects it to unassigned=1.
UNASSIGNED_CHOICE = "(unassigned)"
PANEL_PARAMS = ("order", "show", "move")


def _sort(raw: str) -> str:
    return svc.parse_sort(raw)


def _columns(raw: str) -> str:
    return ",".join(svc.parse_columns(raw)) or "external_id"


VIEW_QUERY = {"sort": _sort, "cols": _columns}  # what a saved view keeps besides the filter
LIST_QUERY = {**VIEW_QUERY, "offset": integer(0, 10_000_000), "view": integer(1, 2**62)}
SAVE_FORM = {"csrf_token": text(200), "name": text(views_svc.MAX_NAME + 50), "shared": choice("1"),
             "replace": choice("1"), "query": text(8000)}


def _canonical(args: Mapping[str, str]) -> dict[str, str]:
    """The query without a GET form's empty fields, the "Unassigned" choice as unassigned=1."""
    kept = {name: value for name, value in args.items() if value != ""}
    if kept.get("workflow") == UNASSIGNED_CHOICE:
        del kept["workflow"]
        kept["unassigned"] = "1"
    return kept


@bp.get("/customers")
@allow(*EVERYONE)
def customer_list():
    kept = _canonical(request.args)
    if kept != request.args.to_dict():
        return redirect("/customers" + with_query(kept), 303)
    return _render_list(kept)


def _render_list(args: Mapping[str, str], save_error: str | None = None, save_name: str = "",
                 status: int = 200) -> Any:
    query = read_list_query(args, extra=LIST_QUERY, visible_to_user_id=visible_user_id())
    values = query.values
    found = svc.customer_list(current_hub(), query.filter, values["sort"], values["offset"] or 0,
                              PAGE_SIZE, viewer().user_id)
    current = _current_view(found.views, values["view"])
    saved = view_query(query)
    columns = list(svc.parse_columns(values["cols"])) if values["cols"] else list(svc.DEFAULT_COLUMNS)
    page = render_template(
        "customers/list.html", nav="Customers", found=found.page, listing=found, values=values,
        with_query=with_query, columns=columns, panel=_panel(columns, found.custom_keys),
        label=svc.column_label, sort=values["sort"] or svc.DEFAULT_SORT,
        unsortable=svc.UNSORTABLE, filter_query=urlencode(query.filter_values),
        filter_values=query.filter_values, saved_query=urlencode(saved), current_view=current,
        view_changed=current is not None and current.query != saved, save_error=save_error,
        save_name=save_name, unassigned_choice=UNASSIGNED_CHOICE,
        custom_inputs=_custom_inputs(found.custom_keys, query.filter.custom_fields))
    return page, status


def view_query(query: ListQuery) -> dict[str, str]:
    """What a saved view stores: the validated filter, sort and columns; never the page."""
    return {k: str(v) for k, v in query.values.items()
            if k not in ("offset", "view") and v not in (None, "")}


def _current_view(views: views_svc.VisibleViews | None, view_id: int | None) -> Any:
    if view_id is None or views is None:
        return None
    for entry in (*views.mine, *views.shared):
        if entry.id == view_id:
            return entry
    raise NotFound(f"saved view {view_id} not found", code="view_not_found")


def _custom_inputs(keys: list[str], filtered: Mapping[str, str]) -> list[str]:
    """A field per known key, and per key filtered on that the cached list does not know yet."""
    return [*keys, *(key for key in filtered if key not in keys)]


def _panel(columns: list[str], custom_keys: list[str]) -> list[tuple[str, bool]]:
    """The Columns panel: the shown columns in their order, then the others."""
    every = [k for k in svc.BASE_COLUMNS if k != "external_id"]
    every += [svc.CUSTOM_PREFIX + key for key in custom_keys]
    hidden = [k for k in every if k not in columns]
    return [(k, True) for k in columns] + [(k, False) for k in hidden]


@bp.get("/customers/columns")
@allow(*EVERYONE)
def choose_columns():
    """The Columns panel's GET form (works without JS): apply, or move one column up or down."""
    rest = {k: v for k, v in _canonical(request.args).items() if k not in PANEL_PARAMS}
    query = read_list_query(rest, extra={"sort": _sort, "view": integer(1, 2**62)})
    order = request.args.getlist("order")
    shown = set(request.args.getlist("show"))
    _check_columns(order)
    chosen = [key for key in order if key in shown]
    move = request.args.get("move", "")
    if move:
        chosen = _moved(chosen, move)
    cols = ",".join(chosen) or "external_id"
    return redirect("/customers" + with_query(query.values, cols=cols, offset=None) + "#columns", 303)


def _check_columns(order: list[str]) -> None:
    try:
        svc.parse_columns(",".join(order))
    except ValueError as exc:
        raise InvalidInput(f"order: {exc}", code="parameter_invalid") from exc


def _moved(chosen: list[str], move: str) -> list[str]:
    direction, _, key = move.partition(":")
    if direction not in ("up", "down") or key not in chosen:
        raise InvalidInput(f"move: {move!r} is not valid (up:<shown column> or down:<shown column>)",
                           code="parameter_invalid")
    at = chosen.index(key)
    to = at - 1 if direction == "up" else at + 1
    if 0 <= to < len(chosen):
        chosen[at], chosen[to] = chosen[to], chosen[at]
    return chosen


@bp.get("/customers/export.csv")
@allow(*EVERYONE)
def export_csv():
    """The API's export.csv of the same filter: the same columns, escaping and throttling."""
    query = read_list_query(_canonical(request.args), visible_to_user_id=visible_user_id())
    hub, flt = current_hub(), query.filter
    return csv_download(lambda: directory.export_file(hub, flt), "customers.csv")


def _posted_query(raw: str) -> ListQuery:
    """A saved view's query string, validated as the list validates it (page and view dropped)."""
    pairs = {k: v for k, v in parse_qsl(raw, keep_blank_values=True) if k not in ("offset", "view")}
    return read_list_query(_canonical(pairs), extra=VIEW_QUERY, visible_to_user_id=visible_user_id())


@bp.post("/customers/views")
@allow(*EVERYONE)
def save_view():
    form = read_query(SAVE_FORM, request.form)
    query = _posted_query(form["query"] or "")
    try:
        entry = views_svc.save_view(current_hub(), viewer().user_id, form["name"] or "",
                                    view_query(query), shared=form["shared"] == "1",
                                    replace=form["replace"] == "1")
    except Conflict as exc:
        return _render_list(view_query(query), save_error=exc.message, save_name=form["name"] or "",
                            status=exc.http_status)
    return redirect("/customers" + with_query(entry.query, view=entry.id), 303)


@bp.post("/customers/views/<int:view_id>")
@allow(*EVERYONE)
def update_view(view_id: int):
    """The owner renames, shares or unshares a view, or stores the list's current query in it."""
    form = read_query(SAVE_FORM, request.form)
    posted = "query" in request.form  # an empty query is the whole list: a valid view too
    query = view_query(_posted_query(form["query"] or "")) if posted else None
    entry = views_svc.update_view(current_hub(), view_id, viewer().user_id, name=form["name"],
                                  shared=form["shared"] == "1", query=query)
    return redirect("/customers" + with_query(entry.query, view=entry.id), 303)


@bp.post("/customers/views/<int:view_id>/delete")
@allow(*EVERYONE)
def delete_view(view_id: int):
    views_svc.delete_view(current_hub(), view_id, viewer().user_id)
    return redirect("/customers", 303)
