"""The run log pages: filter and page through runs (live), one run's trace and outcomes, replay
one run (dry run first) or every run of a filter as a job with progress and cancel."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from hub.context import current_hub
from hub.errors import InvalidInput
from hub.services.processing import replay as replay_svc
from hub.services.queries import runs as svc
from hub.web.pages.access import OPS_READERS, REPLAYERS, allow, viewer
from hub.web.pages.query import choice, integer, moment, read_query, text, with_query

bp = Blueprint("runs", __name__)
PAGE_SIZE = 50
ERROR_CLASSES = ("retryable", "config", "invalid")
FILTERS = {
    "status": choice(*svc.RUN_STATUSES), "connection": text(100), "recipe": text(200),
    "customer": text(255), "error_class": choice(*ERROR_CLASSES), "since": moment,
    "until": moment, "event": integer(1), "resolved": choice(*svc.RESOLVED_CHOICES),
}
LOG_QUERY = {**FILTERS, "sort": choice("newest", "oldest"), "offset": integer(0, 10_000_000),
             "live": choice("0", "1"), "partial": choice("rows")}
JOB_RUNNING = ("queued", "running")


def run_filter(values: dict[str, Any]) -> svc.RunFilter:
    return svc.RunFilter(
        status=values["status"], connection=values["connection"], recipe=values["recipe"],
        customer=values["customer"], error_class=values["error_class"], since=values["since"],
        until=values["until"], event=values["event"],
        resolved=svc.resolved_filter(values["resolved"], values["status"]))


def job_filter(values: dict[str, Any]) -> dict[str, Any]:
    """The filter as a bulk replay job stores it (RunFilter.from_mapping's keys, JSON values)."""
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in values.items() if k in FILTERS and v is not None}


@bp.get("/runs")
@allow(*OPS_READERS)
def run_log():
    values = read_query(LOG_QUERY)
    rows_only = values["partial"] == "rows"
    log = svc.run_log(current_hub(), run_filter(values), values["resolved"], values["offset"] or 0,
                      PAGE_SIZE, oldest_first=values["sort"] == "oldest", with_counts=not rows_only)
    kept = {k: v for k, v in values.items() if k != "partial"}
    live = values["live"] != "0" and not values["offset"] and values["sort"] != "oldest"
    context = {"log": log, "found": log.page, "values": kept, "live": live, "with_query": with_query,
               "statuses": svc.RUN_STATUSES, "error_classes": ERROR_CLASSES,
               "resolved_choices": svc.RESOLVED_CHOICES}
    template = "runs/_rows.html" if rows_only else "runs/list.html"
    return render_template(template, nav="Runs", **context)


@bp.get("/runs/<int:run_id>")
@allow(*OPS_READERS)
def run_page(run_id: int):
    detail = svc.run_detail(current_hub(), run_id)
    return render_template("runs/detail.html", nav="Runs", detail=detail, run=detail.run,
                           tree=trace_tree(detail.run.trace or []))


@bp.post("/runs/<int:run_id>/replay")
@allow(*REPLAYERS)
def replay_one(run_id: int):
    version = request.form.get("version", "current")
    dry_run = request.form.get("dry_run") == "1"
    replay = replay_svc.replay_run(current_hub(), run_id, version=version, dry_run=dry_run)
    if not dry_run:
        target = replay.runs[0].id if replay.runs else run_id
        return redirect(url_for("pages.runs.run_page", run_id=target), 303)
    if request.headers.get("HX-Request"):
        return render_template("runs/_preview.html", replay=replay, run_id=run_id)
    return render_template("runs/preview.html", nav="Runs", replay=replay, run_id=run_id)


@bp.get("/runs/replay")
@allow(*REPLAYERS)
def bulk_replay_form():
    values = read_query(FILTERS)
    total = svc.count_runs(current_hub(), run_filter(values))
    return render_template("runs/bulk.html", nav="Runs", values=values, total=total,
                           job_filter=job_filter(values), with_query=with_query)


@bp.post("/runs/replay")
@allow(*REPLAYERS)
def bulk_replay():
    form = {k: v for k, v in request.form.items() if k in FILTERS}  # version, rate, csrf: below
    filters = job_filter(read_query(FILTERS, form))
    try:
        rate = float(request.form.get("rate", "20"))
    except ValueError as exc:
        raise InvalidInput("rate must be a number of replays per second") from exc
    job = replay_svc.start_replay_job(current_hub(), filters, request.form.get("version", "current"),
                                      rate, viewer().actor)
    return redirect(url_for("pages.runs.job_page", job_id=job.id), 303)


@bp.get("/runs/replay/<int:job_id>")
@allow(*OPS_READERS)
def job_page(job_id: int):
    job = replay_svc.get_replay_job(current_hub(), job_id)
    template = "runs/_job.html" if request.headers.get("HX-Request") else "runs/job.html"
    return render_template(template, nav="Runs", job=job, running=job.status in JOB_RUNNING,
                           replays_link=replays_link(job))


@bp.post("/runs/replay/<int:job_id>/cancel")
@allow(*REPLAYERS)
def cancel_job(job_id: int):
    replay_svc.cancel_replay_job(current_hub(), job_id)
    return redirect(url_for("pages.runs.job_page", job_id=job_id), 303)


def replays_link(job: Any) -> str | None:
    """The run log from the job's start, same connection/recipe/customer: where its replays are."""
    if job.started_at is None:
        return None
    kept = {k: job.filter.get(k) for k in ("connection", "recipe", "customer")}
    return "/runs" + with_query(kept, since=job.started_at.replace(microsecond=0))


def trace_tree(trace: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The engine's flat trace as a tree: an entry goes under the nearest earlier or later entry
    whose path is a prefix of its own ("steps[1].if" under the branch "steps[1]")."""
    nodes: list[dict[str, Any]] = [{"entry": entry, "children": []} for entry in trace]
    recipe = nodes[0] if nodes and nodes[0]["entry"].get("kind") == "recipe" else None
    roots: list[dict[str, Any]] = [recipe] if recipe else []
    for node in nodes:
        if node is recipe:
            continue
        parent = _parent_of(node, nodes) or recipe
        (parent["children"] if parent else roots).append(node)
    return roots


def _parent_of(node: dict[str, Any], nodes: list[dict[str, Any]]) -> dict[str, Any] | None:
    path = str(node["entry"].get("path") or "")
    best: dict[str, Any] | None = None
    best_length = -1
    for other in nodes:
        candidate = str(other["entry"].get("path") or "")
        if other is node or not candidate or not path.startswith(candidate):
            continue
        if path[len(candidate):len(candidate) + 1] in (".", "[") and len(candidate) > best_length:
            best, best_length = other, len(candidate)
    return best
