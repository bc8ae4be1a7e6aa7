"""Normalising a batch of stored notifications, with their vendor fetches overlapped.

Some normalisations call the vendor's API (a Stripe payment method given by id, Chargebee
payment sources, QuickBooks entities, Salesforce owners): one after the other, fifty events
with a 50 ms fetch each would hold a worker for 2.5 s. They run on a few threads instead, each
call through its connection's gate (``hub.services.directory.gates``: at most
HUB_FETCH_CONCURRENCY at once per connection, and nothing while the vendor's Retry-After
runs). Normalising is I/O or pure computation on the stored payload, never the database, so the
threads share nothing but the connector instances, which keep their SDK clients and caches
thread-safe.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from connectors.base import StoredNotification
from hub.errors import HubError, RetryableError
from hub.services.hub import Hub

log = logging.getLogger(__name__)
MAX_THREADS = 32  # per process; the gates bound each connection's share

Normalised = list[dict[str, Any]] | HubError  # the events, or why there are none


def normalise_all(hub: Hub, stored: Sequence[StoredNotification]) -> list[Normalised]:
    """Each notification's normalised events (or its error), in the order given."""
    if len(stored) <= 1:
        return [normalise_one(hub, s) for s in stored]
    return list(_pool().map(lambda s: normalise_one(hub, s), stored))


_POOL: tuple[int, ThreadPoolExecutor] | None = None


def _pool() -> ThreadPoolExecutor:
    """This process's threads, started on first use (a forked worker child starts its own)."""
    global _POOL
    if _POOL is None or _POOL[0] != os.getpid():
        _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="hub-fetch"))
    return _POOL[1]


def normalise_one(hub: Hub, stored: StoredNotification) -> Normalised:
    try:
        connector = hub.connections.connector(stored.connection)
        return hub.connections.gate(stored.connection).run(lambda: connector.normalise(stored))
    except HubError as exc:
        return exc
    except Exception as exc:  # a connector bug: this event fails alone, retried, then replayable
        log.exception("normalising event %s failed unexpectedly", stored.inbox_id)
        return RetryableError(f"unexpected {type(exc).__name__}: {exc}", code="internal_error")
