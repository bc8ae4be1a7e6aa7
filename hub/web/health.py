"""/healthz: is the database reachable, is the broker reachable, which connections are misconfigured."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from hub.web.context import current_hub

bp = Blueprint("health", __name__)


def _database_status() -> str:
    try:
        with current_hub().db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "down"; the type is enough for ops
        return f"down: {type(exc).__name__}"
    return "ok"


@bp.get("/healthz")
def healthz():
    database = _database_status()
    broker_ok, broker_detail = current_hub().queue.ping()
    broker = "ok" if broker_ok else f"down: {broker_detail}"
    # Names and states only: this page is anonymous (GET /api/v1/connections has the problems).
    connections = current_hub().connections.health()
    file_ok = not current_hub().connections.report().problems
    healthy = database == "ok" and broker_ok and file_ok and all(s == "ok" for s in connections.values())
    body = {"status": "ok" if healthy else "degraded", "database": database, "broker": broker,
            "connections": connections}
    if not file_ok:
        body["connectionsFile"] = "invalid"
    # Broker down still accepts webhooks (they wait in the inbox); database down does not. One
    # broken connection degrades the hub without making it unhealthy: the others keep working.
    return body, 200 if database == "ok" else 503
