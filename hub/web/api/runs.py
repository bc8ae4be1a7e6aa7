"""The run log: list, one run, replay one, bulk replay as a job (progress, cancel)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from hub.context import current_hub
from hub.services.processing import replay as replay_svc
from hub.services.queries import runs as svc
from hub.web.api.declare import BY_ID, Api, Param, Reply, Route, paging
from hub.web.api.shapes import page, ref
from hub.web.context import principal
from hub.web.presenters.base import page_dict
from hub.web.presenters.runs import job_dict, replay_dict, run_dict

bp = Blueprint("runs", __name__)
api = Api(bp)
READERS = ("admin", "integration")
RUN_STATUSES = svc.RUN_STATUSES
FILTERS = (
    Param("status", description="Run status", enum=RUN_STATUSES),
    Param("connection", description="Connection name"),
    Param("recipe", description="Recipe name"),
    Param("customer", description="Customer external id", max_length=255),
    Param("errorClass", description="Error class", aliases=("error_class",),
          enum=("retryable", "config", "invalid")),
    Param("since", "datetime", "Created at or after"),
    Param("until", "datetime", "Created before"),
    Param("event", "integer", "Inbox event id", minimum=1),
    Param("resolved", description="Failed runs a later replay resolved: false (default with "
          "status=failed), true, or any", enum=("true", "false", "any")),
)
RUN_ID = Param("id", "integer", "The run id", minimum=1)
JOB_ID = Param("id", "integer", "The replay job id", minimum=1)
# Inside a bulk replay's filter too, camelCase with the snake_case spelling accepted.
FILTER_ALIASES = {"errorClass": "error_class"}


def run_filter(query: dict[str, Any]) -> svc.RunFilter:
    """The declared, already typed parameters; only "resolved" needs the service's default rule."""
    return svc.RunFilter(
        status=query["status"], connection=query["connection"], recipe=query["recipe"],
        customer=query["customer"], error_class=query["errorClass"], since=query["since"],
        until=query["until"], event=query["event"],
        resolved=svc.resolved_filter(query["resolved"], query["status"]))


@api.route(Route("get", "/runs", "List runs by filter, newest first, a page at a time", "runs", READERS,
                 {200: Reply("A page of runs", page("runs", "Run"))}, query=(*FILTERS, *paging())))
def list_runs(query: dict):
    found = svc.list_runs(current_hub(), run_filter(query), query["offset"], query["limit"])
    return page_dict("runs", found, run_dict)


@api.route(Route("get", "/runs/{id}", "One run with its trace and per-update outcomes", "runs", READERS,
                 {200: Reply("The run", ref("Run"))}, path_params=(RUN_ID,), errors=(404,)))
def get_run(id: int):
    return run_dict(svc.get_run(current_hub(), id), detail=True)


@api.route(Route("post", "/runs/{id}/replay", "Replay a run (original or current recipe version; dryRun)",
                 "runs", ("admin",), {200: Reply("The replay", ref("Replay"))}, path_params=(RUN_ID,),
                 body="api/replay.schema.json", body_aliases={"dry_run": "dryRun"}, body_optional=True,
                 errors=(404, 409)))
def replay_run(id: int, body: dict):
    replay = replay_svc.replay_run(current_hub(), id, version=body.get("version", "current"),
                                   dry_run=body.get("dryRun", False))
    return replay_dict(replay)


@api.route(Route("post", "/runs/replay", "Bulk replay by filter as a background job", "runs", ("admin",),
                 {202: Reply("The queued job", ref("ReplayJob"), links={
                     "GetReplayJob": ("get_runs_replay_id", BY_ID),
                     "CancelReplayJob": ("post_runs_replay_id_cancel", BY_ID)})},
                 body="api/bulk_replay.schema.json", body_aliases={"rate_per_second": "ratePerSecond"}))
def bulk_replay(body: dict):
    flt = {FILTER_ALIASES.get(k, k): v for k, v in body["filter"].items()}
    job = replay_svc.start_replay_job(current_hub(), flt, body.get("version", "current"),
                                      float(body.get("ratePerSecond", 20)), principal().actor)
    return job_dict(job), 202


@api.route(Route("get", "/runs/replay/{id}", "Progress of a bulk replay job", "runs", READERS,
                 {200: Reply("The job", ref("ReplayJob"))}, path_params=(JOB_ID,), errors=(404,)))
def replay_job(id: int):
    return job_dict(replay_svc.get_replay_job(current_hub(), id))


@api.route(Route("post", "/runs/replay/{id}/cancel", "Cancel a bulk replay job", "runs", ("admin",),
                 {200: Reply("The job", ref("ReplayJob"))}, path_params=(JOB_ID,), errors=(404,)))
def cancel_job(id: int):
    return job_dict(replay_svc.cancel_replay_job(current_hub(), id))
