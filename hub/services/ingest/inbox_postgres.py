"""The webhook store on PostgreSQL: a group of deliveries in one statement, one round trip.

The general path (``inbox.write_deliveries``) pays a BEGIN, an INSERT of the raw deliveries, an
INSERT of their notifications, a NOTIFY and a COMMIT: five round trips and five trips through
SQLAlchemy's execution machinery for each group, which under load was a third of a web
process's interpreter time. Here the same rows go in as two JSON documents, in one statement
run in autocommit: a single statement is atomic, so the deliveries, their notifications and the
dispatchers' wake-up (``pg_notify``, sent at commit, when due) are stored together or not at all. The
statement's text never changes with the group's size, so the server plans it once.

A delivery whose notifications were all duplicates leaves its raw row behind; the caller deletes
those with one more statement (a rare path: a vendor's retry of what was already stored).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from hub.db.bulk import to_json
from hub.db.models.inbox import RECEIVED

STORE = """
WITH delivered AS (
    INSERT INTO webhook_deliveries (connection, received_at, headers, body)
    SELECT d.connection, d.received_at, d.headers, decode(d.body, 'base64')
    FROM json_to_recordset(%(deliveries)s::json)
         AS d(n bigint, connection text, received_at timestamptz, headers jsonb, body text)
    ORDER BY d.n
    RETURNING id
), numbered AS (  -- serial ids follow the ORDER BY: the n-th smallest id is the n-th delivery
    SELECT id, row_number() OVER (ORDER BY id) AS n FROM delivered
), stored AS (
    INSERT INTO inbox_events (connection, connector, vendor_event_id, event_type, status, occurred_at,
                              received_at, delivery_id, payload)
    SELECT e.connection, e.connector, e.vendor_event_id, e.event_type, e.status, e.occurred_at,
           e.received_at, numbered.id, e.payload
    FROM json_to_recordset(%(events)s::json)
         AS e(delivery bigint, connection text, connector text, vendor_event_id text, event_type text,
              status text, occurred_at timestamptz, received_at timestamptz, payload jsonb)
    JOIN numbered ON numbered.n = e.delivery
    ON CONFLICT (connection, vendor_event_id) DO NOTHING
    RETURNING id, status, connection, vendor_event_id
), woken AS (
    SELECT pg_notify(%(channel)s, '')
    FROM (SELECT 1 FROM stored WHERE status = %(received)s LIMIT 1) AS any_new
    WHERE %(channel)s::text IS NOT NULL
)
SELECT 'event' AS kind, id, connection, vendor_event_id, NULL::bigint AS n FROM stored
UNION ALL SELECT 'delivery', id, NULL, NULL, n FROM numbered
UNION ALL SELECT 'woken', NULL, NULL, NULL, count(*) FROM woken  -- referenced, so it runs
"""

EVENT_COLUMNS = ("delivery", "connection", "connector", "vendor_event_id", "event_type", "status",
                 "occurred_at", "received_at", "payload")


def store(
    db: Connection, channel: str | None, deliveries: Sequence[dict[str, Any]],
    events: Sequence[dict[str, Any]],
) -> tuple[list[tuple[int, str, str]], dict[int, int]]:
    """``deliveries``: raw requests (connection, received_at, headers, body); ``events``: their new
    notifications (EVENT_COLUMNS; ``delivery`` is the 1-based position of its request in
    ``deliveries``). Returns the inserted events (id, connection, vendor event id) and the
    deliveries' ids by position. ``channel``: the one to notify if any new event awaits
    dispatch (None: none). ``db`` must be in autocommit.

    The rows travel as two JSON documents, expanded by the server (json_to_recordset): psycopg
    would dump arrays element by element in Python, and JSON costs it one string each."""
    raw = [{"n": n, "connection": d["connection"], "received_at": d["received_at"], "headers": d["headers"],
            "body": base64.b64encode(d["body"]).decode()} for n, d in enumerate(deliveries, start=1)]
    params = {"channel": channel, "received": RECEIVED, "deliveries": to_json(raw),
              "events": to_json([{name: event[name] for name in EVENT_COLUMNS} for event in events])}
    inserted, delivery_ids = [], {}
    for row in db.exec_driver_sql(STORE, params):
        if row.kind == "event":
            inserted.append((row.id, row.connection, row.vendor_event_id))
        elif row.kind == "delivery":
            delivery_ids[row.n] = row.id
    return inserted, delivery_ids
