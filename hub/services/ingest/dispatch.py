"""The outbox dispatcher: hands stored inbox events to the workers, so that a webhook request
does nothing but verify, store in one short transaction and answer.

A stored event waits in the inbox with no ``enqueued_at``. A dispatcher *claims* a batch of them
(``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several dispatchers on several machines
never claim one event twice; SQLite serialises writers anyway), stamps ``enqueued_at`` in the same
transaction, commits, then publishes one message per event; the broker's refusals lose their
stamp again (``inbox.publish``) and are claimed on a later pass. An event claimed and then lost
(a dispatcher killed between its commit and the publish) stays stamped and unprocessed: the
sweeper (``inbox.enqueue_stragglers``) republishes it after HUB_LOST_AFTER_SECONDS, as it does
for a message lost with a worker.

It wakes on PostgreSQL's ``NOTIFY`` (the webhook transaction notifies ``hub_inbox`` when it
commits) and otherwise polls every HUB_DISPATCH_INTERVAL_SECONDS: the same code path on the
embedded SQLite default, only slower to wake. It runs as a thread of every Celery worker (and
``hub dispatch`` runs one on its own).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from hub.db.models import InboxEvent
from hub.db.models.inbox import IN_FLIGHT, UNDISPATCHED
from hub.db.types import utcnow
from hub.errors import HubError
from hub.services.hub import Hub
from hub.services.ingest.inbox import WAKE_CHANNEL, publish

log = logging.getLogger(__name__)
IN_FLIGHT_WINDOW = timedelta(seconds=30)
PASS_SPACING_SECONDS = 0.02
ERROR_PAUSE_SECONDS = 2.0  # after the database or broker failed: try again, without spinning


def claim(hub: Hub, limit: int) -> list[int]:
    """Take up to ``limit`` stored, never-published events, oldest first, for this dispatcher.

    An idle pass only reads: on SQLite a write transaction would take the database's one write
    lock four times a second for nothing."""
    waiting = select(InboxEvent.id).where(text(UNDISPATCHED)).order_by(InboxEvent.id).limit(limit)
    with hub.uow(read_only=True) as uow:
        if uow.session.scalar(waiting.limit(1)) is None:
            return []
    with hub.uow() as uow:
        ids = list(uow.session.scalars(waiting.with_for_update(skip_locked=True)))
        if ids:
            uow.session.execute(update(InboxEvent).where(InboxEvent.id.in_(ids))
                                .values(enqueued_at=utcnow()))
            uow.commit()
    return ids


def dispatch_pending(hub: Hub, batch: int | None = None) -> int:
    """Claim and publish until nothing is waiting or the workers have enough in hand; how many
    events the broker took."""
    size = batch or hub.settings.dispatch_batch
    published = 0
    while True:
        room = _room(hub)
        if room <= 0:
            return published
        ids = claim(hub, min(size, room))
        if ids:
            published += publish(hub, ids)
        if len(ids) < min(size, room):
            return published


def _room(hub: Hub) -> int:
    """How many more events the workers may be handed now (HUB_DISPATCH_IN_FLIGHT).

    Published events not yet processed are the workers' backlog. Handing them more while they
    are busy only moves the queue from the inbox to the broker, in small batches (one per
    wake-up); held back in the inbox, the next pass claims full batches, which a worker applies
    at a fraction of the cost per event. An event published more than LOST_AFTER ago no longer
    counts (a message lost with a killed worker must not stop dispatching: the sweeper
    republishes it). When the workers are idle the room is the whole limit, so an event that
    arrives alone leaves at once."""
    limit = hub.settings.dispatch_in_flight
    if limit <= 0:
        return hub.settings.dispatch_batch  # unlimited
    in_flight_since = utcnow() - IN_FLIGHT_WINDOW
    with hub.uow(read_only=True) as uow:
        in_flight = uow.session.scalar(
            select(func.count()).select_from(InboxEvent)
            .where(text(IN_FLIGHT), InboxEvent.enqueued_at >= in_flight_since)) or 0
    room = limit - in_flight
    # Less room than a batch while workers are busy: wait for a whole batch's worth.
    return room if in_flight == 0 or room >= hub.settings.process_batch else 0


class Dispatcher:
    """The loop: dispatch what waits, then sleep until notified or the interval has passed."""

    def __init__(self, hub: Hub, interval_seconds: float | None = None) -> None:
        self.hub = hub
        self.interval = interval_seconds or hub.settings.dispatch_interval_seconds
        self.stopping = threading.Event()
        self._listener: object | None = None

    def run(self) -> None:
        interval = self.interval
        while not self.stopping.is_set():
            try:
                dispatch_pending(self.hub)
            except (HubError, SQLAlchemyError) as exc:  # database or broker down: keep trying
                log.warning("dispatcher: %s; trying again in %.0f s", exc, ERROR_PAUSE_SECONDS)
                self.stopping.wait(ERROR_PAUSE_SECONDS)
                continue
            # Passes at least this far apart: under load the webhooks notify hundreds of times a
            # second, and each pass costs queries whether or not it hands anything out.
            self.stopping.wait(PASS_SPACING_SECONDS)
            self._wait(interval)
        self._close_listener()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="hub-dispatcher", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """Ends the loop at its next wake-up (a notification or the end of the interval)."""
        self.stopping.set()

    def _wait(self, seconds: float) -> None:
        """Until a NOTIFY arrives (PostgreSQL) or ``seconds`` have passed."""
        if self.hub.db.dialect != "postgresql":
            self.stopping.wait(seconds)
            return
        try:
            listener = self._listen()
            for _ in listener.notifies(timeout=seconds, stop_after=1):  # type: ignore[attr-defined]
                pass
            # Several notifications arrive at once under load: one pass serves them all.
            for _ in listener.notifies(timeout=0.0):  # type: ignore[attr-defined]
                pass
        except Exception as exc:  # noqa: BLE001 - a lost connection: poll until it is back
            log.debug("dispatcher: LISTEN connection lost (%s)", exc)
            self._close_listener()
            self.stopping.wait(min(seconds, ERROR_PAUSE_SECONDS))

    def _listen(self) -> object:
        if self._listener is None:
            import psycopg

            url = self.hub.db.engine.url.set(drivername="postgresql")
            conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True,
                                   connect_timeout=5)
            conn.execute(f"LISTEN {WAKE_CHANNEL}")
            self._listener = conn
        return self._listener

    def _close_listener(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self._listener.close()  # type: ignore[attr-defined]
            self._listener = None


def run_forever(hub: Hub) -> None:
    """`hub dispatch`: one dispatcher in the foreground until interrupted."""
    dispatcher = Dispatcher(hub)
    try:
        dispatcher.run()
    except KeyboardInterrupt:
        dispatcher.stop()
