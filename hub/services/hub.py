"""The Hub: what every use case is handed (settings, database, queue, connections, recipes).

Built once per process by ``hub.bootstrap.build_hub`` (the composition root); services take it
typed, so a reader sees what a use case may touch. Nothing here builds anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub.config import Settings
from hub.db.engine import Database
from hub.queue import TaskQueue
from hub.services.directory.connections import Connections
from hub.services.uow import UnitOfWork

if TYPE_CHECKING:  # these are handed the Hub itself; they are wired after the Hub exists
    from hub.services.ingest.group_commit import GroupCommit
    from hub.services.ingest.inbox import Delivery, Stored
    from hub.services.recipes.store import RecipeStore


@dataclass
class Hub:
    settings: Settings
    db: Database
    queue: TaskQueue  # tests hand in a recording subclass
    connections: Connections
    recipes: RecipeStore
    inbox_writes: GroupCommit[Delivery, Stored]  # webhook requests stored together (group commit)

    def uow(self, read_only: bool = False) -> UnitOfWork:
        """One transaction; ``read_only`` takes no write lock on SQLite (lists, exports, health)."""
        return UnitOfWork(self.db, read_only=read_only)
