"""Celery tasks: thin; each takes ids and calls one service function inside the app context."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from hub.context import current_hub
from hub.errors import ServiceUnavailable
from hub.queue import (
    BACKFILL_QUICKBOOKS,
    ENQUEUE_DUE_RETRIES,
    PING,
    POLL_SALESFORCE,
    PROCESS_EVENT,
    PROCESS_EVENTS,
    PROCESS_IMPORT,
    PROCESS_IMPORT_PART,
    PRUNE_INBOX,
    RUN_BULK_ASSIGN_JOB,
    RUN_REPLAY_JOB,
    SWEEP_IMPORTS,
    SWEEP_INBOX,
)
from hub.services.directory import bulk_jobs
from hub.services.imports import run as import_run
from hub.services.imports import upload as imports
from hub.services.ingest import inbox, polling, retention
from hub.services.processing import batch as batches
from hub.services.processing import process as processing
from hub.services.processing import replay, retries

# Only an unreachable database is retried by Celery (short, bounded countdowns); every other
# error is recorded in the run log and retried through the database schedule.
DATABASE_DOWN = {"autoretry_for": (ServiceUnavailable,), "retry_backoff": 2, "retry_backoff_max": 60,
                 "retry_jitter": True, "max_retries": 20}


@shared_task(name=PROCESS_EVENT, acks_late=True, reject_on_worker_lost=True, **DATABASE_DOWN)
def process_event(inbox_id: int) -> str:
    return processing.process_event(current_hub(), inbox_id).status


@shared_task(name=PROCESS_EVENTS, acks_late=True, reject_on_worker_lost=True, **DATABASE_DOWN)
def process_events(inbox_ids: list[int]) -> str:
    """A batch in one transaction; a redelivery skips the events already processed."""
    return str(batches.process_events(current_hub(), inbox_ids))


@shared_task(name=SWEEP_INBOX, acks_late=True)
def sweep_inbox() -> int:
    """Publish events stored while the broker was down, and in-flight events that got lost."""
    settings = current_hub().settings
    return inbox.enqueue_stragglers(current_hub(), older_than=timedelta(seconds=settings.sweep_seconds),
                                    lost_after=timedelta(seconds=settings.lost_after_seconds))


@shared_task(name=SWEEP_IMPORTS, acks_late=True)
def sweep_imports() -> int:
    """Publish imports queued while the broker was down, and imports whose worker went silent."""
    return imports.enqueue_stalled_imports(current_hub())


@shared_task(name=ENQUEUE_DUE_RETRIES, acks_late=True)
def enqueue_due_retries() -> int:
    return retries.enqueue_due_retries(current_hub())


@shared_task(name=PRUNE_INBOX, acks_late=True)
def prune_inbox() -> int:
    return retention.prune_inbox(current_hub())


@shared_task(name=PING, acks_late=True)
def ping() -> str:
    """Lets ops (and tests) check that a worker consumes from the broker."""
    return "pong"


@shared_task(name=POLL_SALESFORCE, acks_late=True)
def poll_salesforce() -> dict:
    return polling.poll_connections(current_hub())


@shared_task(name=BACKFILL_QUICKBOOKS, acks_late=True)
def backfill_quickbooks() -> dict:
    return polling.backfill_connections(current_hub())


@shared_task(name=RUN_REPLAY_JOB, acks_late=True)
def run_replay_job(job_id: int) -> str:
    return replay.run_replay_job(current_hub(), job_id)


@shared_task(name=RUN_BULK_ASSIGN_JOB, acks_late=True, reject_on_worker_lost=True, **DATABASE_DOWN)
def run_bulk_assign_job(job_id: int) -> str:
    """Resumable: a redelivery continues after the last committed chunk."""
    return bulk_jobs.run_bulk_assign_job(current_hub(), job_id)


@shared_task(name=PROCESS_IMPORT, acks_late=True, reject_on_worker_lost=True, **DATABASE_DOWN)
def process_import(import_id: int) -> str:
    """Claims the import and hands its parts to part tasks (on SQLite, applies them in turn).

    Idempotent and resumable: a redelivery claims the import afresh and continues after each
    part's last committed chunk."""
    return import_run.process_import(current_hub(), import_id)


@shared_task(name=PROCESS_IMPORT_PART, acks_late=True, reject_on_worker_lost=True, **DATABASE_DOWN)
def process_import_part(import_id: int, part: int, claim: str) -> str:
    """One part of a claimed import; a redelivery skips what the part committed, and the part
    that finishes last closes the import."""
    return import_run.process_import_part(current_hub(), import_id, part, claim)
