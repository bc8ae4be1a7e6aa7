"""Is the hub healthy: the database and broker reachable, every connection usable, the recipes
folder accepted. Read by the anonymous /healthz, so it says states, never problems or values."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from hub.errors import ServiceUnavailable
from hub.services.hub import Hub

OK = "ok"


@dataclass(frozen=True)
class HealthReport:
    database: str  # ok, or "down: <error type>"
    broker: str  # ok, or "down: <why>"
    connections: dict[str, str]  # name -> ok / invalid
    connections_file_ok: bool
    recipes: str  # ok / refused

    @property
    def healthy(self) -> bool:
        """Broker down still accepts webhooks (they wait in the inbox); a broken connection or a
        refused recipes folder degrades the hub (the others keep working, the last good set
        runs), and so does any of these."""
        return (self.database == OK and self.broker == OK and self.connections_file_ok
                and self.recipes == OK and all(s == OK for s in self.connections.values()))

    @property
    def serving(self) -> bool:
        """Database down is the one state in which the hub cannot accept webhooks."""
        return self.database == OK


def check_health(hub: Hub) -> HealthReport:
    database = _database_status(hub)
    broker_ok, broker_detail = hub.queue.ping()
    return HealthReport(
        database=database,
        broker=OK if broker_ok else f"down: {broker_detail}",
        connections=hub.connections.health(),
        connections_file_ok=not hub.connections.report().problems,
        recipes=_recipes_status(hub, database == OK),
    )


def _database_status(hub: Hub) -> str:
    try:
        with hub.db.read_engine.connect() as conn:  # no write lock on SQLite
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "down"; the type is enough for ops
        return f"down: {type(exc).__name__}"
    return OK


def _recipes_status(hub: Hub, database_ok: bool) -> str:
    """Cheap: the store re-checks the folder's files at most every 2 s. A re-check reads the
    database, so while it is down the last known state is answered."""
    store = hub.recipes
    try:
        loaded = store.current() if database_ok else store.loaded
    except ServiceUnavailable:
        loaded = store.loaded
    return "refused" if loaded.refused else OK
