"""Celery tasks: thin; each takes ids and calls one service function inside the app context."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app

from hub.errors import ServiceUnavailable
from hub.services.imports import upload as imports
from hub.services.ingest import inbox, polling, retention
from hub.services.processing import process as processing
from hub.services.processing import replay, retries


def _hub():  # type: ignore[no-untyped-def]
    return current_app.extensions["hub"]


# Only an unreachable database is retried by Celery (short, bounded countdowns); every other
# error is recorded in the run log and retried through the database schedule.
DATABASE_DOWN = {"autoretry_for": (ServiceUnavailable,), "retry_backoff": 2, "retry_backoff_max": 60,
                 "retry_jitter": True, "max_retries": 20}


@shared_task(name="hub.process_event", acks_late=True, reject_on_worker_lost=True, **DATABASE_DOWN)
def process_event(inbox_id: int) -> str:
    return processing.process_event(_hub(), inbox_id).status


@shared_task(name="hub.sweep_inbox", acks_late=True)
def sweep_inbox() -> int:
    """Publish events stored while the broker was down, and in-flight events that got lost."""
    settings = _hub().settings
    return inbox.enqueue_stragglers(_hub(), older_than=timedelta(seconds=settings.sweep_seconds),
                                    lost_after=timedelta(seconds=settings.lost_after_seconds))


@shared_task(name="hub.sweep_imports", acks_late=True)
def sweep_imports() -> int:
    """Publish imports queued while the broker was down, and imports whose worker went silent."""
    return imports.enqueue_stalled_imports(_hub())


@shared_task(name="hub.enqueue_due_retries", acks_late=True)
def enqueue_due_retries() -> int:
    return retries.enqueue_due_retries(_hub())


@shared_task(name="hub.prune_inbox", acks_late=True)
def prune_inbox() -> int:
    return retention.prune_inbox(_hub())


@shared_task(name="hub.ping", acks_late=True)
def ping() -> str:
    """Lets ops (and tests) check that a worker consumes from the broker."""
    return "pong"


@shared_task(name="hub.poll_salesforce", acks_late=True)
def poll_salesforce() -> dict:
    return polling.poll_salesforce(_hub())


@shared_task(name="hub.backfill_quickbooks", acks_late=True)
def backfill_quickbooks() -> dict:
    return polling.backfill_quickbooks(_hub())


@shared_task(name="hub.run_replay_job", acks_late=True)
def run_replay_job(job_id: int) -> str:
    return replay.run_replay_job(_hub(), job_id)


@shared_task(name="hub.process_import", acks_late=True, reject_on_worker_lost=True, **DATABASE_DOWN)
def process_import(import_id: int) -> str:
    """Idempotent and resumable: a redelivery continues after the last committed chunk."""
    return imports.process_import(_hub(), import_id)
