"""The run log: list, one run, replay one, bulk replay as a job (progress, cancel)."""

from __future__ import annotations

from flask import Blueprint, request

from hub.db.models import ReplayJob
from hub.errors import NotFound
from hub.services import replay as replay_svc
from hub.services import runs as svc
from hub.services.payloads import validate
from hub.web.context import current_hub, json_body, paging, principal, require

bp = Blueprint("runs", __name__)
OPERATIONS = [
    ("get", "/runs", "List runs (filters: status, connection, recipe, customer, error_class, since, "
     "until, event; paging offset/limit)", "runs", None),
    ("get", "/runs/{id}", "One run with its trace and per-update outcomes", "runs", None),
    ("post", "/runs/{id}/replay", "Replay a run (original or current recipe version; dry_run)",
     "runs", "api/replay.schema.json"),
    ("post", "/runs/replay", "Bulk replay by filter as a background job", "runs",
     "api/bulk_replay.schema.json"),
    ("get", "/runs/replay/{id}", "Progress of a bulk replay job", "runs", None),
    ("post", "/runs/replay/{id}/cancel", "Cancel a bulk replay job", "runs", None),
]


@bp.get("/runs")
@require("admin", "integration")
def list_runs():
    offset, limit = paging()
    flt = svc.RunFilter.from_mapping({k: v for k, v in request.args.items()
                                      if k not in ("offset", "limit")})
    with current_hub().uow() as uow:
        total, rows = svc.list_runs(uow.session, flt, offset, limit)
        return {"offset": offset, "limit": limit, "total": total, "runs": [svc.run_dict(r) for r in rows]}


@bp.get("/runs/<int:run_id>")
@require("admin", "integration")
def get_run(run_id: int):
    with current_hub().uow() as uow:
        return svc.run_dict(svc.get_run(uow.session, run_id), detail=True)


@bp.post("/runs/<int:run_id>/replay")
@require("admin")
def replay_run(run_id: int):
    body = validate("api/replay.schema.json", json_body() if request.get_data() else {})
    return replay_svc.replay_run(current_hub(), run_id, version=body.get("version", "current"),
                                 dry_run=body.get("dry_run", False))


@bp.post("/runs/replay")
@require("admin")
def bulk_replay():
    body = validate("api/bulk_replay.schema.json", json_body())
    job = replay_svc.start_replay_job(current_hub(), body["filter"], body.get("version", "current"),
                                      float(body.get("rate_per_second", 20)), principal().actor)
    return replay_svc.job_dict(job), 202


@bp.get("/runs/replay/<int:job_id>")
@require("admin", "integration")
def replay_job(job_id: int):
    with current_hub().uow() as uow:
        job = uow.session.get(ReplayJob, job_id)
        if job is None:
            raise NotFound(f"replay job {job_id} not found")
        return replay_svc.job_dict(job)


@bp.post("/runs/replay/<int:job_id>/cancel")
@require("admin")
def cancel_job(job_id: int):
    return replay_svc.job_dict(replay_svc.cancel_replay_job(current_hub(), job_id))
