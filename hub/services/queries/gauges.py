"""The database side of /metrics, counted at scrape time so every process answers the same."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from hub.db.models import InboxEvent, RecipeRun, SecurityEvent
from hub.db.models import inbox as inbox_status
from hub.db.types import utcnow
from hub.services.hub import Hub


@dataclass(frozen=True)
class DatabaseCounts:
    runs: list[tuple[str, int]]  # (status, how many)
    inbox: list[tuple[str, str, int]]  # (connection, status, how many)
    refused: list[tuple[str, str, int]]  # (connection, kind, how many) refused webhooks
    queue_lag_seconds: float  # age of the oldest event waiting to be processed, 0 when none


def count_database(hub: Hub) -> DatabaseCounts:
    with hub.uow(read_only=True) as uow:  # a scrape never waits for (or holds) SQLite's write lock
        s = uow.session
        runs = s.execute(select(RecipeRun.status, func.count()).group_by(RecipeRun.status))
        inbox = s.execute(select(InboxEvent.connection, InboxEvent.status, func.count())
                          .group_by(InboxEvent.connection, InboxEvent.status))
        refused = s.execute(select(SecurityEvent.connection, SecurityEvent.kind, func.count())
                            .group_by(SecurityEvent.connection, SecurityEvent.kind))
        counts = ([(status, n) for status, n in runs], [(c, status, n) for c, status, n in inbox],
                  [(c, kind, n) for c, kind, n in refused])
        oldest = s.scalar(select(func.min(InboxEvent.received_at)).where(
            InboxEvent.status.in_((inbox_status.RECEIVED, inbox_status.RETRYING))))
    lag = (utcnow() - oldest).total_seconds() if oldest else 0.0
    return DatabaseCounts(*counts, queue_lag_seconds=lag)
