"""The inbox as ops see it: GET /events (filters, paging) and GET /events/{id}."""

from __future__ import annotations

from flask import Blueprint

from hub.db.models.inbox import INBOX_STATUSES
from hub.services.queries import events as svc
from hub.web.api.declare import Api, Param, Reply, Route, paging
from hub.web.api.shapes import page, ref
from hub.web.context import current_hub

bp = Blueprint("events", __name__)
api = Api(bp)
FILTERS = (
    Param("connection", description="Connection name"),
    Param("connector", description="Connector name"),
    Param("status", description="Inbox status", enum=INBOX_STATUSES),
    Param("type", description="Vendor event type"),
    Param("customer", description="Customer external id", max_length=255),
    Param("since", "datetime", "Received at or after"),
    Param("until", "datetime", "Received before"),
)
EVENT_ID = Param("id", "integer", "The inbox event id", minimum=1)


@api.route(Route("get", "/events", "List inbox events by filter, a page at a time", "events",
                 ("admin", "integration"), {200: Reply("A page of events", page("events", "Event"))},
                 query=(*FILTERS, *paging())))
def list_events(query: dict):
    flt = svc.EventFilter(connection=query["connection"], connector=query["connector"],
                          status=query["status"], event_type=query["type"], customer=query["customer"],
                          since=query["since"], until=query["until"])
    with current_hub().uow(read_only=True) as uow:
        total, rows = svc.list_events(uow.session, flt, query["offset"], query["limit"])
        return {"offset": query["offset"], "limit": query["limit"], "total": total,
                "events": [svc.event_dict(e) for e in rows]}


@api.route(Route("get", "/events/{id}", "One inbox event with its vendor payload and normalised form",
                 "events", ("admin", "integration"), {200: Reply("The event", ref("Event"))},
                 path_params=(EVENT_ID,), errors=(404,)))
def get_event(id: int):
    with current_hub().uow(read_only=True) as uow:
        return svc.event_dict(svc.get_event(uow.session, id), with_payload=True)
