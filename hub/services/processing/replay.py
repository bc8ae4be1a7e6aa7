"""Replaying runs: one run, or a background job over every run matching a filter.

A replay is a new attempt linked to the original (``replay_of``). It goes through the same
assignment service, so it is idempotent (an applied change replays as ``unchanged``) and it
respects staleness (a newer change already applied wins). ``dry_run`` does all the work in a
transaction that is never committed and answers what would change.

A replay that runs through resolves the failure it replayed: the failed run, the runs it was
itself a replay of, and their other failed replays get ``resolved_by_id`` (this module is the
one writer of it), so the run log's ``status=failed`` lists only what still needs someone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.db.models import InboxEvent, RecipeRun, RecipeVersion, ReplayJob, jobs
from hub.db.models import inbox as inbox_status
from hub.db.models import runs as run_status
from hub.db.types import utcnow
from hub.errors import Conflict, HubError, NotFound, ValidationFailed
from hub.queue import RUN_REPLAY_JOB
from hub.recipes import Recipe, load_recipe_text
from hub.services.hub import Hub
from hub.services.processing.process import apply_event, process_event, stored_notification
from hub.services.queries.runs import RunFilter
from hub.services.recipes.store import LoadedRecipes
from hub.services.uow import fully_loaded, get_row

VERSIONS = ("original", "current")
# A replay ending in one of these leaves nothing to do: replaying again would answer the same
# (partial: a higher-ranked source owns a field; skipped: nothing left to apply).
RESOLVING = (run_status.SUCCEEDED, run_status.PARTIAL, run_status.SKIPPED)


@dataclass(frozen=True)
class Replay:
    """What replaying run ``replay_of`` did (or, in a dry run, would do): the new runs.

    ``status`` is the event's, when a failed event stage was processed again as a whole."""

    replay_of: int
    dry_run: bool
    version: str
    runs: list[RecipeRun]
    status: str | None = None

    @property
    def succeeded(self) -> bool:
        return all(run.status != run_status.FAILED for run in self.runs)


def replay_run(hub: Hub, run_id: int, version: str = "current", dry_run: bool = False) -> Replay:
    if version not in VERSIONS:
        raise ValidationFailed(f"version must be one of {', '.join(VERSIONS)}")
    with hub.uow() as uow:
        original = get_row(uow.session, RecipeRun, run_id, what="run", code="run_not_found")
        if original.inbox_event_id is None:
            raise Conflict("the run's event is no longer in the inbox (pruned)")
        recipe_name, recipe_version = original.recipe_name, original.recipe_version
        event_id, customer = original.inbox_event_id, original.customer_external_id
    if recipe_name is None and not dry_run:
        return _reprocess_event(hub, event_id, run_id)
    loaded = hub.recipes.current()
    recipes = _recipes_for(hub, loaded, recipe_name, recipe_version, version)
    # An event stage replays the whole event, so its dry run shows every customer's events.
    events = _events_of(hub, event_id, customer if recipe_name is not None else None)
    with hub.uow() as uow:
        row = get_row(uow.session, InboxEvent, event_id, lock=True)
        run_ids = [rid for e in events
                   for rid in apply_event(uow.session, row, e, loaded, only=recipes, replay_of=run_id)]
        replays = [get_row(uow.session, RecipeRun, rid) for rid in run_ids]
        if replays and all(r.status in RESOLVING for r in replays) and not dry_run:
            _resolve(uow.session, run_id, replays[0].id)
        runs = [fully_loaded(uow.session, r) for r in replays]  # a dry run's too: it rolls back
        if not dry_run:
            uow.commit()
    return Replay(run_id, dry_run, version, runs)


def _reprocess_event(hub: Hub, event_id: int, run_id: int) -> Replay:
    """A failed event stage (normalisation): put the event back and process it again."""
    with hub.uow() as uow:
        row = get_row(uow.session, InboxEvent, event_id, lock=True)
        if row.status in (inbox_status.FAILED, inbox_status.RETRYING):
            row.status = inbox_status.RECEIVED
        uow.commit()
    result = process_event(hub, event_id)
    with hub.uow() as uow:
        runs = [get_row(uow.session, RecipeRun, rid) for rid in result.run_ids]
        for run in runs:
            run.replay_of_id = run_id
        if result.status == "processed" and runs:  # normalised now; a recipe failing is its own run
            _resolve(uow.session, run_id, runs[0].id)
        runs = [fully_loaded(uow.session, run) for run in runs]
        uow.commit()
    return Replay(run_id, False, "current", runs, status=result.status)


def _resolve(session: Session, run_id: int, resolver_id: int) -> None:
    """Mark the failure ``run_id`` stood for as resolved by run ``resolver_id``."""
    chain = _replayed_chain(session, run_id)
    failed = session.scalars(select(RecipeRun).where(
        or_(RecipeRun.id.in_(chain), RecipeRun.replay_of_id.in_(chain)),
        RecipeRun.status == run_status.FAILED, RecipeRun.resolved_by_id.is_(None)))
    for run in failed:
        run.resolved_by_id = resolver_id


def _replayed_chain(session: Session, run_id: int) -> list[int]:
    """``run_id``, the run it replayed, that run's original, ... up to the first attempt."""
    chain = [run_id]
    parent = session.scalar(select(RecipeRun.replay_of_id).where(RecipeRun.id == run_id))
    while parent is not None and parent not in chain:
        chain.append(parent)
        parent = session.scalar(select(RecipeRun.replay_of_id).where(RecipeRun.id == parent))
    return chain


def _recipes_for(hub: Hub, loaded: LoadedRecipes, name: str | None, number: int | None,
                 version: str) -> tuple[Recipe, ...] | None:
    if name is None:
        return None  # every matching recipe (dry run of an event stage)
    if version == "current":
        for recipe in loaded.recipes:
            if recipe.name == name:
                return (recipe,)
        raise Conflict(f"recipe {name} is not loaded any more; replay with version=original")
    with hub.uow() as uow:
        stored = uow.session.scalar(select(RecipeVersion).where(
            RecipeVersion.name == name, RecipeVersion.version == number))
        if stored is None:
            raise NotFound(f"version {number} of recipe {name} is not stored")
        return (load_recipe_text(stored.content, file=stored.path or name),)


def _events_of(hub: Hub, event_id: int, customer: str | None) -> list[dict[str, Any]]:
    with hub.uow() as uow:
        row = get_row(uow.session, InboxEvent, event_id)
        events, stored = row.normalised, stored_notification(row)
    if events is None:
        events = hub.connections.connector(stored.connection).normalise(stored)
    return [e for e in events if customer is None or e["customer"]["external_id"] == customer]


# -- bulk ----------------------------------------------------------------------------------


def start_replay_job(hub: Hub, filters: dict[str, Any], version: str, rate: float,
                     requested_by: str) -> ReplayJob:
    RunFilter.from_mapping(filters)  # refuse bad filters now, not in the worker
    if version not in VERSIONS or not 0 < rate <= 1000:
        raise ValidationFailed("version must be original|current and rate_per_second in (0, 1000]")
    with hub.uow() as uow:
        job = ReplayJob(filter=filters, version=version, rate_per_second=rate,
                        requested_by=requested_by)
        uow.session.add(job)
        uow.session.flush()
        job_id = job.id
        uow.after_commit(lambda: hub.queue.enqueue(RUN_REPLAY_JOB, job_id))
        uow.commit()
        return job


def get_replay_job(hub: Hub, job_id: int) -> ReplayJob:
    with hub.uow(read_only=True) as uow:
        return get_row(uow.session, ReplayJob, job_id)


def cancel_replay_job(hub: Hub, job_id: int) -> ReplayJob:
    with hub.uow() as uow:
        job = get_row(uow.session, ReplayJob, job_id)
        job.cancel_requested = True
        if job.status == jobs.JOB_QUEUED:
            job.status, job.finished_at = jobs.JOB_CANCELLED, utcnow()
        uow.commit()
        return job


def run_replay_job(hub: Hub, job_id: int) -> str:
    """The worker side: replay each matching run once, at most ``rate_per_second``."""
    ids, job = _begin_job(hub, job_id)
    if job is None:
        return "gone"
    interval = 1.0 / job.rate_per_second
    for position, run_id in enumerate(ids, start=1):
        started = time.monotonic()
        ok = _replay_quietly(hub, run_id, job.version)
        if _progress(hub, job_id, position, ok):
            return jobs.JOB_CANCELLED
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
    _end_job(hub, job_id, jobs.JOB_DONE)
    return jobs.JOB_DONE


def _begin_job(hub: Hub, job_id: int) -> tuple[list[int], ReplayJob | None]:
    with hub.uow() as uow:
        job = get_row(uow.session, ReplayJob, job_id, lock=True)
        if job is None or job.status != jobs.JOB_QUEUED:
            return [], None
        flt = RunFilter.from_mapping(job.filter)
        ids = list(uow.session.scalars(flt.apply(select(RecipeRun.id)).where(
            RecipeRun.replay_of_id.is_(None)).order_by(RecipeRun.id)))
        job.status, job.total, job.started_at = jobs.JOB_RUNNING, len(ids), utcnow()
        uow.commit()
        return ids, job


def _replay_quietly(hub: Hub, run_id: int, version: str) -> bool:
    try:
        return replay_run(hub, run_id, version=version).succeeded
    except HubError:
        return False


def _progress(hub: Hub, job_id: int, position: int, ok: bool) -> bool:
    """Record one replay; True when an admin asked to cancel."""
    with hub.uow() as uow:
        job = get_row(uow.session, ReplayJob, job_id, lock=True)
        job.processed = position
        job.succeeded += 1 if ok else 0
        job.failed += 0 if ok else 1
        if job.cancel_requested:
            job.status, job.finished_at = jobs.JOB_CANCELLED, utcnow()
        uow.commit()
        return job.cancel_requested


def _end_job(hub: Hub, job_id: int, status: str) -> None:
    with hub.uow() as uow:
        job = get_row(uow.session, ReplayJob, job_id)
        job.status, job.finished_at = status, utcnow()
        uow.commit()
