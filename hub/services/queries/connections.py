"""The connections page: each connection's state and problems, last event, last vendor API error.

A vendor API call (a fetch while normalising) that fails is recorded on the event's stage run
(``recipe_name`` empty) with the error's class: ``retryable`` (a 5xx, a timeout, a 429) or
``config`` (a 401, a 403). The newest such run of a connection is its last vendor API error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from hub.db.models import InboxEvent, RecipeRun
from hub.db.models.runs import FAILED, RETRYING
from hub.services.directory.connections import INVALID, OK
from hub.services.hub import Hub

VENDOR_ERROR_CLASSES = ("retryable", "config")


@dataclass(frozen=True)
class VendorError:
    run_id: int
    at: datetime
    error_class: str | None
    message: str | None


@dataclass(frozen=True)
class ConnectionState:
    name: str
    connector: str | None
    state: str  # ok / invalid
    problems: tuple[str, ...]  # names and fields only, never values
    last_event_at: datetime | None
    last_error: VendorError | None


@dataclass(frozen=True)
class ConnectionsOverview:
    connections: list[ConnectionState]
    file_problems: list[str]  # the connections file itself, not one connection


def connections_overview(hub: Hub) -> ConnectionsOverview:
    report = hub.connections.report()
    with hub.uow(read_only=True) as uow:
        s = uow.session
        last_events = {name: at for name, at in s.execute(
            select(InboxEvent.connection, func.max(InboxEvent.received_at)).group_by(InboxEvent.connection))}
        newest = (select(func.max(RecipeRun.id))
                  .where(RecipeRun.recipe_name.is_(None), RecipeRun.status.in_((FAILED, RETRYING)),
                         RecipeRun.error_class.in_(VENDOR_ERROR_CLASSES))
                  .group_by(RecipeRun.connection))
        errors = {run.connection: VendorError(run.id, run.finished_at or run.created_at, run.error_class,
                                              run.message)
                  for run in s.scalars(select(RecipeRun).where(RecipeRun.id.in_(newest)))}
    items = [ConnectionState(n, c.connector, OK, (), last_events.get(n), errors.get(n))
             for n, c in report.connections.items()]
    items += [ConnectionState(n, b.connector, INVALID, tuple(b.problems), last_events.get(n), errors.get(n))
              for n, b in report.broken.items()]
    return ConnectionsOverview(sorted(items, key=lambda item: item.name), list(report.problems))
