"""The composition root: builds the database, queue, connections and recipe store from Settings, once."""

from __future__ import annotations

from hub.config import Settings
from hub.db.engine import Database
from hub.queue import TaskQueue
from hub.services.directory.connections import Connections
from hub.services.directory.credentials import DatabaseCredentials
from hub.services.hub import Hub
from hub.services.ingest.group_commit import GroupCommit
from hub.services.ingest.inbox import store_deliveries
from hub.services.recipes.store import RecipeStore


def build_hub(settings: Settings, queue: TaskQueue | None = None) -> Hub:
    db = Database(settings.database_url)
    connections = Connections(settings, credentials=DatabaseCredentials(db, settings.secret_key))
    hub = Hub(settings=settings, db=db, queue=queue or TaskQueue(settings), connections=connections,
              recipes=None, inbox_writes=None)  # type: ignore[arg-type]  # these need the hub: set below
    hub.recipes = RecipeStore(hub)
    hub.inbox_writes = GroupCommit(lambda batch: store_deliveries(hub, batch))
    return hub
