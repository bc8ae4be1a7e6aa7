"""Connections: each one's state and problems, settings redacted (admins only)."""

from __future__ import annotations

from flask import Blueprint

from hub.web.context import current_hub, require

bp = Blueprint("connections", __name__)
OPERATIONS = [
    ("get", "/connections", "List connections with their state, problems and redacted settings",
     "connections", None),
]


@bp.get("/connections")
@require("admin")
def list_connections():
    return current_hub().connections.describe()
