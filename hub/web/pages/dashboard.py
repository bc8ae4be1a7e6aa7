"""GET /: the dashboard. Ops see each connection's traffic, runs per hour and the latest failures;
an account manager, who has no use for them, is sent to their customers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template

from hub.context import current_hub
from hub.services.queries import dashboard as svc
from hub.web.pages.access import EVERYONE, OPS_READERS, allow, viewer
from hub.web.pages.query import read_query

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@allow(*EVERYONE)
def index() -> Any:
    if viewer().role not in OPS_READERS:
        return redirect("/customers", 303)
    read_query({})
    board = svc.dashboard(current_hub())
    return render_template("dashboard/index.html", nav="Dashboard", board=board, chart=chart_data(board.runs))


def chart_data(chart: svc.RunChart) -> dict[str, Any]:
    """What dashboard.js hands Chart.js: hour labels (ISO, UTC) and one series per status."""
    return {"labels": [hour.isoformat().replace("+00:00", "Z") for hour in chart.hours],
            "series": [{"status": status, "counts": counts} for status, counts in chart.counts.items()]}
