"""Safety nets for dropped webhooks: every connection whose connector can be polled or backfilled.

A Polled connector reports the changes since its cursor; a Backfilled one lists every change
since a time (change data capture). Both feed the same inbox as webhooks (same dedupe), then
move a cursor stored in the database under the connector's cursor kind. A poll may read its
boundary record again (a ``>=`` cursor): the inbox deduplicates it rather than missing it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from connectors import registry
from connectors.base import Backfilled, Connector, Polled
from hub.db.models import PollCursor
from hub.db.types import utcnow
from hub.errors import ConfigError, HubError
from hub.services.hub import Hub
from hub.services.ingest.inbox import store_polled

log = logging.getLogger(__name__)
FIRST_BACKFILL_LOOKBACK = timedelta(days=1)
# The next backfill starts a little before this one did: a change committed while it ran is
# listed again (and deduplicated) rather than missed.
BACKFILL_OVERLAP = timedelta(minutes=5)


def _cursor(hub: Hub, connection: str, kind: str) -> datetime | None:
    with hub.uow() as uow:
        row = uow.session.get(PollCursor, (connection, kind))
        return row.cursor if row else None


def _move_cursor(hub: Hub, connection: str, kind: str, value: datetime) -> None:
    with hub.uow() as uow:
        row = uow.session.get(PollCursor, (connection, kind))
        if row is None:
            uow.session.add(PollCursor(connection=connection, kind=kind, cursor=value))
        elif value > row.cursor:
            row.cursor = value
        uow.commit()


def _offering(hub: Hub, capability: type) -> list[tuple[str, type[Connector]]]:
    """(connection, connector class) for every usable connection whose connector has ``capability``.

    Decided on the class, so connections of other connectors are neither built nor logged about.
    """
    found = []
    for name, connection in sorted(hub.connections.all().items()):
        try:
            cls = registry.get_connector_class(connection.connector)
        except ConfigError:
            continue  # cannot be loaded: its webhook and /healthz report it when it is used
        if issubclass(cls, capability):
            found.append((name, cls))
    return found


def poll_connections(hub: Hub) -> dict[str, int]:
    """Notifications stored per polled connection; a failing one is logged and the rest go on."""
    stored: dict[str, int] = {}
    for name, cls in _offering(hub, Polled):
        try:
            connector = hub.connections.connector(name)
            if not isinstance(connector, Polled):
                continue
            notes, cursor = connector.poll(_cursor(hub, name, cls.poll_cursor_kind))
        except HubError as exc:
            log.warning("%s poll of %s failed (%s): %s", cls.name, name, exc.error_class, exc.message)
            continue
        stored[name] = len(store_polled(hub, name, connector, notes))
        _move_cursor(hub, name, cls.poll_cursor_kind, cursor)
    return stored


def backfill_connections(hub: Hub) -> dict[str, int]:
    """Notifications stored per backfilled connection; a failing one is logged and the rest go on."""
    stored: dict[str, int] = {}
    for name, cls in _offering(hub, Backfilled):
        started = datetime.now(UTC)
        since = _cursor(hub, name, cls.backfill_cursor_kind) or utcnow() - FIRST_BACKFILL_LOOKBACK
        try:
            connector = hub.connections.connector(name)
            if not isinstance(connector, Backfilled):
                continue
            notes = connector.backfill(since)
        except HubError as exc:
            log.warning("%s backfill of %s failed (%s): %s", cls.name, name, exc.error_class, exc.message)
            continue
        stored[name] = len(store_polled(hub, name, connector, notes))
        _move_cursor(hub, name, cls.backfill_cursor_kind, started - BACKFILL_OVERLAP)
    return stored
