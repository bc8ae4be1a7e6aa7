"""The one adapter through which the hub enqueues work: by task name, never importing worker/.

Every task's name is defined here, once: the worker registers its tasks under these names, beat
schedules them by these names, and the hub enqueues by them (tests/unit/test_task_names.py checks
that each one is a registered task). Which of them go to the bulk queue is said here too (BULK_TASKS).

Publishing fails fast (no retry loop): the caller has already committed, and a periodic sweeper
enqueues whatever could not be published while the broker was down.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from kombu import Connection

from hub.broker import celery_settings, ensure_folders
from hub.config import Settings

log = logging.getLogger(__name__)

# Work the hub enqueues.
PROCESS_EVENT = "hub.process_event"
PROCESS_EVENTS = "hub.process_events"  # a batch of inbox ids, as the dispatcher and the sweeper send them
PROCESS_IMPORT = "hub.process_import"
PROCESS_IMPORT_PART = "hub.process_import_part"
RUN_REPLAY_JOB = "hub.run_replay_job"
RUN_BULK_ASSIGN_JOB = "hub.run_bulk_assign_job"
# Beat's periodic jobs.
SWEEP_INBOX = "hub.sweep_inbox"
SWEEP_IMPORTS = "hub.sweep_imports"
ENQUEUE_DUE_RETRIES = "hub.enqueue_due_retries"
PRUNE_INBOX = "hub.prune_inbox"
POLL_SALESFORCE = "hub.poll_salesforce"
BACKFILL_QUICKBOOKS = "hub.backfill_quickbooks"
# Lets ops (and tests) check that a worker consumes from the broker.
PING = "hub.ping"

TASK_NAMES = (PROCESS_EVENT, PROCESS_EVENTS, PROCESS_IMPORT, PROCESS_IMPORT_PART, RUN_REPLAY_JOB,
              RUN_BULK_ASSIGN_JOB, SWEEP_INBOX,
              SWEEP_IMPORTS, ENQUEUE_DUE_RETRIES, PRUNE_INBOX, POLL_SALESFORCE,
              BACKFILL_QUICKBOOKS, PING)
# Long work (a whole file, thousands of runs) on a queue of its own, so that it never sits
# ahead of webhook processing in one line of messages.
BULK_TASKS = (PROCESS_IMPORT, PROCESS_IMPORT_PART, RUN_REPLAY_JOB, RUN_BULK_ASSIGN_JOB)


class TaskQueue:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._celery: Celery | None = None

    @property
    def celery(self) -> Celery:
        if self._celery is None:
            ensure_folders(self._settings)
            app = Celery("hub-producer", set_as_current=False)
            app.conf.update(celery_settings(self._settings, BULK_TASKS))
            self._celery = app
        return self._celery

    def enqueue(self, task_name: str, *args: Any) -> bool:
        """Publish one task; False (and a log line) when the broker is unreachable."""
        try:
            self.celery.send_task(
                task_name, args=args, retry=True,
                retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
            )
        except Exception as exc:  # kombu raises several families here; all mean "not published"
            log.warning("could not publish %s%s: %s", task_name, args, exc)
            return False
        return True

    def ping(self) -> tuple[bool, str]:
        try:
            conf = celery_settings(self._settings)
            with Connection(
                conf["broker_url"], transport_options=conf["broker_transport_options"],
                connect_timeout=2,
            ) as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:  # any failure to connect means "down" for the health check
            return False, type(exc).__name__
        return True, "ok"
