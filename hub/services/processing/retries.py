"""Failures before the recipes run (normalisation, vendor API) and their retry schedule.

The schedule lives in the database (``next_attempt_at``), not in long Celery countdowns, which
misbehave with Redis's visibility timeout. Beat calls ``enqueue_due_retries`` every few seconds.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from hub.db.models import InboxEvent, RecipeRun
from hub.db.models import inbox as inbox_status
from hub.db.models import runs as run_status
from hub.db.types import utcnow
from hub.errors import HubError
from hub.queue import PROCESS_EVENT
from hub.services.hub import Hub

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)  # a due retry, once enqueued, is not enqueued again for this long


def backoff_seconds(attempt: int, base: float, cap: float, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter; a vendor's Retry-After is a floor."""
    delay = random.uniform(0, min(cap, base * 2 ** (attempt - 1)))
    return max(delay, retry_after or 0.0, 1.0)


def record_event_failure(hub: Hub, inbox_id: int, exc: HubError, started: datetime,
                         customer_ref: str | None = None) -> str:
    """Log the failure as the event's stage run; schedule a retry or fail for good.

    ``customer_ref`` (the customer's external id, when the payload names it) goes on the run and
    the inbox row, so the run log and the inbox filtered by customer show the failure too.
    """
    settings = hub.settings
    with hub.uow() as uow:
        row = uow.session.get(InboxEvent, inbox_id, with_for_update=True)
        if row is None or row.status == inbox_status.PROCESSED:
            return "already"
        run = _stage_run(uow.session, row)
        row.customer_external_id = row.customer_external_id or customer_ref
        run.customer_external_id = row.customer_external_id or run.customer_external_id
        run.attempts = (run.attempts or 0) + 1 if run.id else 1
        retry = exc.retryable and run.attempts < settings.retry_max_attempts
        run.status = run_status.RETRYING if retry else run_status.FAILED
        run.error_class, run.message = exc.error_class, f"{exc.code}: {exc.message}"
        run.started_at, run.finished_at = started, utcnow()
        run.duration_ms = (run.finished_at - started).total_seconds() * 1000
        run.next_attempt_at = utcnow() + timedelta(seconds=backoff_seconds(
            run.attempts, settings.retry_base_seconds, settings.retry_max_seconds,
            getattr(exc, "retry_after", None))) if retry else None
        row.status = inbox_status.RETRYING if retry else inbox_status.FAILED
        row.error_class, row.error = exc.error_class, run.message
        uow.commit()
        log.warning("event %s %s (%s): %s", inbox_id, run.status, exc.error_class, exc.message)
        return run.status


def _stage_run(session: Any, row: InboxEvent) -> RecipeRun:
    run = session.scalars(select(RecipeRun).where(
        RecipeRun.inbox_event_id == row.id, RecipeRun.recipe_name.is_(None),
        RecipeRun.status.in_((run_status.RETRYING, run_status.FAILED)))
        .order_by(RecipeRun.id.desc()).limit(1)).one_or_none()
    if run is None:
        run = RecipeRun(inbox_event_id=row.id, connection=row.connection, recipe_name=None,
                        status=run_status.RETRYING, attempts=0)
        session.add(run)
    return run


def enqueue_due_retries(hub: Hub, batch: int = 500) -> int:
    """Re-enqueue events whose retry time has come, leasing them so they go out once."""
    now = utcnow()
    with hub.uow() as uow:
        runs = list(uow.session.scalars(select(RecipeRun).where(
            RecipeRun.status == run_status.RETRYING, RecipeRun.next_attempt_at <= now)
            .order_by(RecipeRun.next_attempt_at).limit(batch).with_for_update(skip_locked=True)))
        for run in runs:
            run.next_attempt_at = now + LEASE
        event_ids = [r.inbox_event_id for r in runs if r.inbox_event_id is not None]
        uow.commit()
    return sum(1 for i in event_ids if hub.queue.enqueue(PROCESS_EVENT, i))
