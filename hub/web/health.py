"""/healthz: is the database reachable, is the broker reachable."""

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
    healthy = database == "ok" and broker_ok
    body = {"status": "ok" if healthy else "degraded", "database": database, "broker": broker}
    # Broker down still accepts webhooks (they wait in the inbox); database down does not.
    return body, 200 if database == "ok" else 503
