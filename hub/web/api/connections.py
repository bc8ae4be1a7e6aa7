"""Connections: each one's state and problems, settings redacted (admins only)."""

from __future__ import annotations

from flask import Blueprint

from hub.context import current_hub
from hub.web.api.declare import Api, Reply, Route
from hub.web.api.shapes import ref
from hub.web.presenters.connections import connections_dict

bp = Blueprint("connections", __name__)
api = Api(bp)


@api.route(Route("get", "/connections", "Connections with their state, problems and redacted settings",
                 "connections", ("admin",), {200: Reply("Every connection", ref("Connections"))}))
def list_connections():
    return connections_dict(current_hub().connections.report())
