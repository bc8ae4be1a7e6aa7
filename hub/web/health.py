"""/healthz: is the database reachable, is the broker reachable, which connections are misconfigured,
is the recipes folder refused."""

from __future__ import annotations

from flask import Blueprint

from hub.context import current_hub
from hub.services.health import check_health
from hub.web.presenters.health import health_dict

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    report = check_health(current_hub())
    # Names and states only: this page is anonymous (GET /api/v1/connections has the problems).
    # 503 only while the database is down: then webhooks cannot be accepted.
    return health_dict(report), 200 if report.serving else 503
