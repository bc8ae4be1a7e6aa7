"""The inbox: GET /events (every notification, filtered and paged), GET /events/refusals (refused
webhooks, never their payload) and GET /events/<id> (one event, its payload, headers and runs)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from hub.context import current_hub
from hub.services.queries import events as svc
from hub.web.pages.access import OPS_READERS, allow
from hub.web.pages.query import choice, integer, moment, read_query, text, with_query

bp = Blueprint("events", __name__)
PAGE_SIZE = 50
OFFSET = integer(0, 10**9)
EVENT_FILTERS = {"connection": text(100), "status": choice(*svc.INBOX_STATUSES), "type": text(100),
                 "customer": text(255), "since": moment, "until": moment, "offset": OFFSET}
REFUSAL_FILTERS = {"connection": text(100), "since": moment, "until": moment, "offset": OFFSET}


@bp.get("/events")
@allow(*OPS_READERS)
def index() -> Any:
    query = read_query(EVENT_FILTERS)
    flt = svc.EventFilter(connection=query["connection"], status=query["status"], event_type=query["type"],
                          customer=query["customer"], since=query["since"], until=query["until"])
    found = svc.list_events(current_hub(), flt, query["offset"] or 0, PAGE_SIZE)
    return render_template("events/index.html", nav="Inbox", found=found, query=query,
                           statuses=svc.INBOX_STATUSES, tab="events", page_link=paging(query))


@bp.get("/events/refusals")
@allow(*OPS_READERS)
def refusals() -> Any:
    query = read_query(REFUSAL_FILTERS)
    flt = svc.RefusalFilter(connection=query["connection"], since=query["since"], until=query["until"])
    found = svc.list_refusals(current_hub(), flt, query["offset"] or 0, PAGE_SIZE)
    return render_template("events/refusals.html", nav="Inbox", found=found, query=query, tab="refusals",
                           page_link=paging(query))


@bp.get("/events/<int:event_id>")
@allow(*OPS_READERS)
def detail(event_id: int) -> Any:
    read_query({})
    found = svc.event_detail(current_hub(), event_id)
    return render_template("events/detail.html", nav="Inbox", detail=found, event=found.event)


def paging(query: dict[str, Any]) -> Any:
    """The pager's link to another page of the same filter."""
    return lambda offset: with_query(query, offset=offset or None)
