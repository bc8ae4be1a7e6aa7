"""Safety nets for dropped webhooks: the Salesforce poll and the QuickBooks CDC backfill.

Both feed the same inbox as webhooks (same dedupe), then move a cursor stored in the database.
The Salesforce cursor uses ``SystemModstamp >=``, so the boundary record is read again and
deduplicated by the inbox rather than missed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from connectors.base import Backfilled, Polled
from hub.db.models import PollCursor
from hub.db.types import utcnow
from hub.errors import HubError
from hub.services.hub import Hub
from hub.services.ingest.inbox import store_polled

log = logging.getLogger(__name__)
QUICKBOOKS_FIRST_LOOKBACK = timedelta(days=1)


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


def poll_salesforce(hub: Hub) -> dict[str, int]:
    stored: dict[str, int] = {}
    for name in hub.connections.of_connector("salesforce"):
        try:
            connector = hub.connections.connector(name)
            if not isinstance(connector, Polled):
                continue
            notes, cursor = connector.poll(_cursor(hub, name, "salesforce_poll"))
        except HubError as exc:
            log.warning("salesforce poll of %s failed (%s): %s", name, exc.error_class, exc.message)
            continue
        stored[name] = len(store_polled(hub, name, connector, notes))
        _move_cursor(hub, name, "salesforce_poll", cursor)
    return stored


def backfill_quickbooks(hub: Hub) -> dict[str, int]:
    stored: dict[str, int] = {}
    for name in hub.connections.of_connector("quickbooks"):
        started = datetime.now(UTC)
        since = _cursor(hub, name, "quickbooks_cdc") or utcnow() - QUICKBOOKS_FIRST_LOOKBACK
        try:
            connector = hub.connections.connector(name)
            if not isinstance(connector, Backfilled):
                continue
            notes = connector.backfill(since)
        except HubError as exc:
            log.warning("quickbooks backfill of %s failed (%s): %s", name, exc.error_class, exc.message)
            continue
        stored[name] = len(store_polled(hub, name, connector, notes))
        _move_cursor(hub, name, "quickbooks_cdc", started - timedelta(minutes=5))
    return stored
