"""The inbox as ops see it: GET /events (filters, paging) and GET /events/{id}."""

from __future__ import annotations

from flask import Blueprint, request

from hub.services import events as svc
from hub.services.payloads import parse_time
from hub.web.context import current_hub, paging, require

bp = Blueprint("events", __name__)
OPERATIONS = [
    ("get", "/events", "List inbox events (filters: connection, connector, status, type, customer, "
     "since, until; paging offset/limit)", "events", None),
    ("get", "/events/{id}", "One inbox event with its vendor payload and normalised form", "events", None),
]


def _filter() -> svc.EventFilter:
    a = request.args
    return svc.EventFilter(
        connection=a.get("connection"), connector=a.get("connector"), status=a.get("status"),
        event_type=a.get("type"), customer=a.get("customer"),
        since=parse_time(a["since"], "since") if a.get("since") else None,
        until=parse_time(a["until"], "until") if a.get("until") else None,
    )


@bp.get("/events")
@require("admin", "integration")
def list_events():
    offset, limit = paging()
    with current_hub().uow() as uow:
        total, rows = svc.list_events(uow.session, _filter(), offset, limit)
        return {"offset": offset, "limit": limit, "total": total,
                "events": [svc.event_dict(e) for e in rows]}


@bp.get("/events/<int:event_id>")
@require("admin", "integration")
def get_event(event_id: int):
    with current_hub().uow() as uow:
        return svc.event_dict(svc.get_event(uow.session, event_id), with_payload=True)
