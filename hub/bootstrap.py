"""The composition root: builds the database, queue and connections from Settings, once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.config import Settings
from hub.db.engine import Database
from hub.queue import TaskQueue
from hub.services.directory.connections import Connections
from hub.services.uow import UnitOfWork


@dataclass
class Hub:
    """Everything a request, task or command needs, wired from one Settings object."""

    settings: Settings
    db: Database
    queue: Any  # TaskQueue, or a fake with the same enqueue/ping in unit tests
    connections: Connections
    recipes: Any = None  # RecipeStore, wired by build_hub (it needs the hub itself)
    extras: dict[str, Any] = field(default_factory=dict)

    def uow(self, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(self.db, read_only=read_only)


def build_hub(settings: Settings, queue: Any | None = None) -> Hub:
    from hub.services.directory.credentials import DatabaseCredentials
    from hub.services.recipes.store import RecipeStore

    db = Database(settings.database_url)
    hub = Hub(
        settings=settings,
        db=db,
        queue=queue or TaskQueue(settings),
        connections=Connections(settings, credentials=DatabaseCredentials(db, settings.secret_key)),
    )
    hub.recipes = RecipeStore(hub)
    return hub
