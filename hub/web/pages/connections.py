"""GET /connections: each connection's state and problems, the webhook URL to paste into the
vendor's dashboard, its last event and its last vendor API error."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for

from hub.context import current_hub
from hub.services.queries.connections import connections_overview
from hub.web.pages.access import OPS_READERS, allow
from hub.web.pages.query import read_query

bp = Blueprint("connections", __name__)


@bp.get("/connections")
@allow(*OPS_READERS)
def index() -> Any:
    read_query({})
    overview = connections_overview(current_hub())
    return render_template("connections/index.html", nav="Connections", overview=overview,
                           webhook_url=webhook_url)


def webhook_url(connection: str) -> str:
    """Absolute, as this hub is reached (behind a proxy, as ProxyFix reports it)."""
    return request.host_url.rstrip("/") + url_for("webhooks.receive", connection=connection)
