"""Build the Celery app from the Flask app, so every task runs inside the app context."""

from __future__ import annotations

import logging

from celery import Celery, Task
from flask import Flask

from hub.broker import celery_settings, ensure_folders
from hub.context import hub_of
from hub.queue import (
    BACKFILL_QUICKBOOKS,
    BULK_TASKS,
    ENQUEUE_DUE_RETRIES,
    POLL_SALESFORCE,
    PRUNE_INBOX,
    SWEEP_IMPORTS,
    SWEEP_INBOX,
)


def make_celery(flask_app: Flask) -> Celery:
    hub = hub_of(flask_app)

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            with flask_app.app_context():
                return self.run(*args, **kwargs)

    ensure_folders(hub.settings)
    celery = Celery(flask_app.name, task_cls=FlaskTask)
    celery.conf.update(celery_settings(hub.settings, BULK_TASKS))
    celery.conf.beat_schedule = beat_schedule(hub.settings)
    QuietTicks.install(celery.conf.beat_schedule)
    celery.set_default()
    flask_app.extensions["celery"] = celery
    celery.autodiscover_tasks(["worker"], related_name="tasks", force=True)
    if hub.settings.dispatcher:
        run_a_dispatcher(hub)
    return celery


def run_a_dispatcher(hub) -> None:  # type: ignore[no-untyped-def]
    """Every worker runs an outbox dispatcher thread in its main process, from the moment it is
    ready until it shuts down: where there are workers, stored events reach them. Several
    dispatchers never claim one event twice (hub.services.ingest.dispatch)."""
    from celery import signals

    from hub.services.ingest.dispatch import Dispatcher

    dispatcher = Dispatcher(hub)

    @signals.worker_ready.connect(weak=False)
    def _start(**_: object) -> None:
        dispatcher.start()

    @signals.worker_shutdown.connect(weak=False)
    def _stop(**_: object) -> None:
        dispatcher.stop()


def beat_schedule(settings) -> dict:  # type: ignore[no-untyped-def]
    """Periodic jobs: the inbox sweeper, due retries, vendor polls and inbox pruning.

    Each tick expires a little before the next one is due: when workers are busy (or down) the
    ticks that pile up are dropped instead of all running late, one after the other.
    """

    def every(seconds: float, task: str) -> dict:
        return {"task": task, "schedule": float(seconds),
                "options": {"expires": float(seconds) * EXPIRES_SHARE}}

    return {
        "sweep-inbox": every(settings.sweep_seconds, SWEEP_INBOX),
        "sweep-imports": every(settings.sweep_seconds, SWEEP_IMPORTS),
        "enqueue-due-retries": every(5, ENQUEUE_DUE_RETRIES),
        "poll-salesforce": every(settings.salesforce_poll_seconds, POLL_SALESFORCE),
        "backfill-quickbooks": every(settings.quickbooks_backfill_seconds, BACKFILL_QUICKBOOKS),
        "prune-inbox": every(3600, PRUNE_INBOX),
    }


EXPIRES_SHARE = 0.9  # of a tick's interval, after which an undelivered tick is dropped

TICK_SECONDS = 60  # a periodic task due more often than this is a tick: its routine lines are noise


class QuietTicks(logging.Filter):
    """Celery's routine lines about frequent ticks at DEBUG instead of INFO.

    Beat's "Sending due task", the worker's "received" and a "succeeded ...: 0" line for a task due
    every 5 s were three INFO lines every 5 s that buried what ops look for. A tick that did
    something (returned a count other than 0) and every failure keep their level.
    """

    LOGGERS = ("celery.beat", "celery.worker.strategy", "celery.app.trace")
    IDLE_RESULTS = ("0", "None")

    def __init__(self, names: set[str]) -> None:
        super().__init__()
        self.names = names  # entry names and task names

    @classmethod
    def install(cls, schedule: dict) -> QuietTicks:
        ticks = {name: entry for name, entry in schedule.items()
                 if float(entry["schedule"]) < TICK_SECONDS}
        quiet = cls({*ticks, *(entry["task"] for entry in ticks.values())})
        for name in cls.LOGGERS:
            logger = logging.getLogger(name)
            for old in [f for f in logger.filters if isinstance(f, QuietTicks)]:
                logger.removeFilter(old)  # a second app in one process replaces, never stacks
            logger.addFilter(quiet)
        return quiet

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not self._about_tick(record):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)

    def _about_tick(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, dict):  # the worker's received / succeeded lines
            if args.get("name") not in self.names:
                return False
            return "return_value" not in args or str(args["return_value"]) in self.IDLE_RESULTS
        return isinstance(args, tuple) and any(a in self.names for a in args if isinstance(a, str))
