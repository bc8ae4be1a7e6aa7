"""/healthz: is the database reachable, is the broker reachable, which connections are misconfigured,
is the recipes folder refused."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from hub.errors import ServiceUnavailable
from hub.web.context import current_hub

bp = Blueprint("health", __name__)


def _database_status() -> str:
    try:
        with current_hub().db.read_engine.connect() as conn:  # no write lock on SQLite
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "down"; the type is enough for ops
        return f"down: {type(exc).__name__}"
    return "ok"


def _recipes_status(database_ok: bool) -> str:
    """Cheap: the store re-checks the folder's files at most every 2 s. A re-check reads the
    database, so while it is down the last known state is answered."""
    store = current_hub().recipes
    try:
        loaded = store.current() if database_ok else store.loaded
    except ServiceUnavailable:
        loaded = store.loaded
    return "refused" if loaded.refused else "ok"


@bp.get("/healthz")
def healthz():
    database = _database_status()
    broker_ok, broker_detail = current_hub().queue.ping()
    broker = "ok" if broker_ok else f"down: {broker_detail}"
    # Names and states only: this page is anonymous (GET /api/v1/connections has the problems).
    connections = current_hub().connections.health()
    file_ok = not current_hub().connections.report().problems
    recipes = _recipes_status(database == "ok")
    healthy = (database == "ok" and broker_ok and file_ok and recipes == "ok"
               and all(s == "ok" for s in connections.values()))
    body = {"status": "ok" if healthy else "degraded", "database": database, "broker": broker,
            "connections": connections, "recipes": recipes}
    if not file_ok:
        body["connectionsFile"] = "invalid"
    # Broker down still accepts webhooks (they wait in the inbox); database down does not. One
    # broken connection degrades the hub without making it unhealthy: the others keep working;
    # so does a refused recipes folder (the last good set runs, or events wait for a replay).
    return body, 200 if database == "ok" else 503
