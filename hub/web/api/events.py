"""The inbox as ops see it: GET /events (filters, paging) and GET /events/{id}."""

from __future__ import annotations

from flask import Blueprint

from hub.context import current_hub
from hub.services.queries import events as svc
from hub.web.api.declare import Api, Param, Reply, Route, paging
from hub.web.api.shapes import page, ref
from hub.web.presenters.base import page_dict
from hub.web.presenters.events import event_dict

bp = Blueprint("events", __name__)
api = Api(bp)
FILTERS = (
    Param("connection", description="Connection name"),
    Param("connector", description="Connector name"),
    Param("status", description="Inbox status", enum=svc.INBOX_STATUSES),
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
    found = svc.list_events(current_hub(), flt, query["offset"], query["limit"])
    return page_dict("events", found, event_dict)


@api.route(Route("get", "/events/{id}", "One inbox event with its vendor payload and normalised form",
                 "events", ("admin", "integration"), {200: Reply("The event", ref("Event"))},
                 path_params=(EVENT_ID,), errors=(404,)))
def get_event(id: int):
    return event_dict(svc.get_event(current_hub(), id), with_payload=True)
