"""Recipe runs (with links to their event and customer), replays, bulk replay jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.presentation import iso
from hub.services.processing.replay import Replay

if TYPE_CHECKING:
    from hub.db.models import RecipeRun, ReplayJob


def run_dict(r: RecipeRun, detail: bool = False) -> dict[str, Any]:
    body = {
        "id": r.id, "status": r.status, "errorClass": r.error_class, "message": r.message,
        "attempts": r.attempts, "connection": r.connection,
        "recipe": {"name": r.recipe_name, "version": r.recipe_version, "hash": r.recipe_hash}
        if r.recipe_name else None,
        "eventId": r.inbox_event_id, "customerId": r.customer_id,
        "customerExternalId": r.customer_external_id, "replayOf": r.replay_of_id,
        "resolvedBy": r.resolved_by_id,
        "startedAt": iso(r.started_at), "finishedAt": iso(r.finished_at),
        "durationMs": r.duration_ms, "nextAttemptAt": iso(r.next_attempt_at),
        "links": {"event": f"/api/v1/events/{r.inbox_event_id}" if r.inbox_event_id else None,
                  "customer": f"/api/v1/customers/{r.customer_id}" if r.customer_id else None},
    }
    if detail:
        body["trace"], body["updates"] = r.trace, r.updates
    return body


def replay_dict(replay: Replay) -> dict[str, Any]:
    body: dict[str, Any] = {"replayOf": replay.replay_of, "dryRun": replay.dry_run, "version": replay.version}
    if replay.status is not None:  # a failed event stage, processed again as a whole
        body["status"] = replay.status
    return {**body, "runs": [run_dict(run, detail=True) for run in replay.runs]}


def job_dict(job: ReplayJob) -> dict[str, Any]:
    return {"id": job.id, "status": job.status, "filter": job.filter, "version": job.version,
            "ratePerSecond": job.rate_per_second, "total": job.total, "processed": job.processed,
            "succeeded": job.succeeded, "failed": job.failed, "cancelRequested": job.cancel_requested,
            "requestedBy": job.requested_by, "createdAt": iso(job.created_at),
            "startedAt": iso(job.started_at), "finishedAt": iso(job.finished_at)}
