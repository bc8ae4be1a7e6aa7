"""Processing a batch of inbox events: normalised together (vendor fetches overlapped), then
every recipe run of every event applied in one transaction with set-based reads and writes.

The guarantees are the single event's (``process``): each inbox row is locked and checked, so a
redelivered batch changes nothing twice; each change is judged per field by the assignment
service, staleness included, and recorded once in the history; one run per (event, recipe).
What changes is the cost: a batch of fifty events takes about fifteen statements instead of
twelve per event. The customers are locked in id order (``AssignmentBatch.lock``), as every
other writer locks them, so batches on shared customers wait for each other instead of
deadlocking.

A bad event fails alone. A normalisation or vendor failure is recorded for that event
(retried on the database schedule) before the transaction opens; a recipe run refused by the
assignment service (an unknown user or workflow) fails as that run only. Anything unexpected
rolls the batch back and its events are applied again one at a time, each in a transaction of
its own (``process.apply_normalised``), where the poisoned one fails by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors import registry
from connectors.base import StoredNotification
from hub.db import bulk
from hub.db.models import Customer, InboxEvent, RecipeRun
from hub.db.models import inbox as inbox_status
from hub.db.models import runs as run_status
from hub.db.types import new_id, utcnow
from hub.errors import ConfigError, HubError, ServiceUnavailable, ValidationFailed
from hub.recipes import Recipe, evaluate_in_order, matching_recipes
from hub.services.assignment import AssignmentService, Cause
from hub.services.assignment.batch import AssignmentBatch
from hub.services.directory.workflows import workflows_by_name
from hub.services.hub import Hub
from hub.services.payloads import parse_time
from hub.services.processing import process
from hub.services.processing.apply import field_write, status_of
from hub.services.processing.fetches import normalise_all
from hub.services.processing.retries import record_event_failure
from hub.services.recipes.store import LoadedRecipes

log = logging.getLogger(__name__)
INBOX = cast(Table, InboxEvent.__table__)
CUSTOMERS = cast(Table, Customer.__table__)
RUNS = cast(Table, RecipeRun.__table__)
PROFILE = tuple(process.PROFILE)  # the vendor's data on a customer: name, email, currency, method
NOTHING_TO_APPLY = "the connector found nothing to apply for this notification"


@dataclass
class BatchResult:
    processed: int = 0  # events whose runs were recorded
    already: int = 0  # processed before (a redelivery) or gone
    failed: int = 0  # events whose failure was recorded (retrying or failed)
    one_by_one: bool = False  # the batch fell back to one transaction per event

    def __str__(self) -> str:
        mode = ", one by one" if self.one_by_one else ""
        return f"{self.processed} processed, {self.already} already, {self.failed} failed{mode}"


def process_events(hub: Hub, inbox_ids: Sequence[int]) -> BatchResult:
    result = BatchResult()
    stored = _load_pending(hub, inbox_ids)
    result.already = len(set(inbox_ids)) - len(stored)
    started = utcnow()
    ready: list[tuple[StoredNotification, list[dict[str, Any]]]] = []
    for notification, normalised in zip(stored, normalise_all(hub, stored), strict=True):
        if isinstance(normalised, HubError):
            ref = process.customer_ref(hub, notification)
            record_event_failure(hub, int(notification.inbox_id), normalised, started, ref)
            result.failed += 1
        else:
            ready.append((notification, normalised))
    if ready:
        _apply(hub, ready, started, result)
    return result


def _apply(hub: Hub, ready: list[tuple[StoredNotification, list[dict[str, Any]]]], started: datetime,
           result: BatchResult) -> None:
    try:
        loaded = process.usable_recipes(hub)
    except HubError as exc:  # no usable recipes: every event says so, and is replayed once fixed
        for notification, events in ready:
            record_event_failure(hub, int(notification.inbox_id), exc, started, _first_customer(events))
        result.failed += len(ready)
        return
    for attempt in (1, 2):
        try:
            done = _apply_batch(hub, ready, loaded)
        except ServiceUnavailable:
            raise  # the database is down: the task retries the whole batch
        except IntegrityError:
            if attempt == 1:  # another worker created one of these customers: now it exists
                continue
        except Exception:  # noqa: BLE001 - a deadlock or a bug: find the event that causes it
            log.exception("a batch of %d events failed; applying them one by one", len(ready))
        else:
            result.processed += done
            result.already += len(ready) - done
            return
        break
    result.one_by_one = True
    for notification, events in ready:
        outcome = process.apply_normalised(hub, int(notification.inbox_id), events, started)
        if outcome.status == "processed":
            result.processed += 1
        elif outcome.status == "already":
            result.already += 1
        else:
            result.failed += 1


def _load_pending(hub: Hub, inbox_ids: Sequence[int]) -> list[StoredNotification]:
    """The events still to process, in id order (the order they were received in)."""
    with hub.uow(read_only=True) as uow:
        rows = uow.session.scalars(
            select(InboxEvent).where(InboxEvent.id.in_(sorted(set(inbox_ids))),
                                     InboxEvent.status.in_((inbox_status.RECEIVED, inbox_status.RETRYING)))
            .order_by(InboxEvent.id))
        return [process.stored_notification(row) for row in rows]


def _first_customer(events: list[dict[str, Any]]) -> str | None:
    return events[0]["customer"]["external_id"] if events else None


# --- the transaction --------------------------------------------------------------------------


def _apply_batch(hub: Hub, ready: list[tuple[StoredNotification, list[dict[str, Any]]]],
                 loaded: LoadedRecipes) -> int:
    """Apply the events still unprocessed under their row locks; how many were applied."""
    with hub.uow() as uow:
        session = uow.session
        locked = _lock_inbox(session, [int(n.inbox_id) for n, _ in ready])
        todo = [(n, events) for n, events in ready if n.inbox_id in locked]
        if not todo:
            return 0
        customers = _Customers.lock(session, [(locked[n.inbox_id]["connector"], e) for n, events in todo
                                              for e in events])
        batch = AssignmentService(session).open_batch(customers.ids())
        runs = _Runs(session, loaded, batch, customers, [(n, events) for n, events in todo])
        finished = [runs.event(n, events, locked[n.inbox_id]) for n, events in todo]
        batch.write()
        runs.write()
        bulk.update_rows(session, INBOX, ("id",), finished)
        retried = [int(n.inbox_id) for n, _ in todo if locked[n.inbox_id]["status"] == inbox_status.RETRYING]
        if retried:
            process.resolve_stage_runs(session, retried)
        uow.commit()
    return len(todo)


def _lock_inbox(session: Session, inbox_ids: list[int]) -> dict[Any, dict[str, Any]]:
    """Lock the rows (id order) and keep those not processed yet."""
    rows = session.execute(
        select(INBOX.c.id, INBOX.c.status, INBOX.c.connector, INBOX.c.customer_external_id)
        .where(bulk.one_of(session, INBOX.c.id, inbox_ids)).order_by(INBOX.c.id).with_for_update())
    done = (inbox_status.PROCESSED, inbox_status.IGNORED)
    return {row.id: row._asdict() for row in rows if row.status not in done}


@dataclass
class _Customers:
    """The batch's customers by external id, locked, with their profile as the events leave it."""

    session: Session
    rows: dict[str, dict[str, Any]]  # external id -> id and profile columns
    changed: set[str] = field(default_factory=set)

    @classmethod
    def lock(cls, session: Session, events: list[tuple[str, dict[str, Any]]]) -> _Customers:
        wanted = sorted({e["customer"]["external_id"] for _, e in events})
        columns = [CUSTOMERS.c[c] for c in ("id", "external_id", *PROFILE, "profile_changed_at")]
        found = session.execute(select(*columns).where(bulk.one_of(session, CUSTOMERS.c.external_id, wanted))
                                .order_by(CUSTOMERS.c.id).with_for_update())
        book = cls(session, {row.external_id: row._asdict() for row in found})
        new: dict[str, dict[str, Any]] = {}
        for connector, event in events:  # the profile each customer ends with, in event order
            ref = event["customer"]["external_id"]
            if ref not in book.rows and registry.get_connector_class(connector).creates_customers:
                new[ref] = book.rows[ref] = {"id": new_id(), "external_id": ref, "source_system": connector,
                                             **dict.fromkeys(PROFILE), "profile_changed_at": None}
            if ref in book.rows and book._update_profile(book.rows[ref], event):
                book.changed.add(ref)
        book._write(new)
        return book

    def ids(self) -> list[str]:
        return [row["id"] for row in self.rows.values()]

    def id_of(self, external_id: str) -> str | None:
        row = self.rows.get(external_id)
        return row["id"] if row else None

    @staticmethod
    def _update_profile(row: dict[str, Any], event: dict[str, Any]) -> bool:
        """Profile data is the vendor's; an event older than the last one applied changes nothing."""
        occurred_at = parse_time(event["occurred_at"], "occurred_at")
        if row["profile_changed_at"] and occurred_at < row["profile_changed_at"]:
            return False
        data = event["customer"]
        row.update({key: data[key] for key in PROFILE if data.get(key) is not None})
        row["profile_changed_at"] = occurred_at
        return True

    def _write(self, new: dict[str, dict[str, Any]]) -> None:
        now = utcnow()
        bulk.insert_rows(self.session, CUSTOMERS, list(new.values()),
                         same={"custom_fields": {}, "ownership": {}, "created_at": now, "updated_at": now})
        changed = [{k: v for k, v in self.rows[ref].items() if k != "external_id"}
                   for ref in sorted(self.changed - new.keys())]
        bulk.update_rows(self.session, CUSTOMERS, ("id",), changed, same={"updated_at": now})


class _Runs:
    """The batch's recipe runs, built in memory with ids drawn up front, written with one COPY."""

    def __init__(self, session: Session, loaded: LoadedRecipes, batch: AssignmentBatch, customers: _Customers,
                 todo: list[tuple[StoredNotification, list[dict[str, Any]]]]) -> None:
        self.session, self.loaded, self.batch, self.customers = session, loaded, batch, customers
        self.matching = {id(e): matching_recipes(loaded.recipes, e) for _, events in todo for e in events}
        # At most one run per matching recipe, or one skipped run: draw that many ids.
        most = sum(sum(max(1, len(self.matching[id(e)])) for e in events) or 1 for _, events in todo)
        self._ids = iter(bulk.next_ids(session, RUNS, most))
        self.rows: list[dict[str, Any]] = []
        by_name = session.info["workflows_by_name"] = workflows_by_name(session)  # as field_write reads it
        self._names = {w.id: w.name for w in by_name.values()}

    def event(self, stored: StoredNotification, events: list[dict[str, Any]], row: dict[str, Any]) -> dict:
        """The runs of one event; its inbox row's new values."""
        for event in events:
            self._runs_of(stored, event)
        if not events:  # e.g. a Salesforce Account without the match field, a deleted customer
            self._skipped(stored, None, None, NOTHING_TO_APPLY)
        return {"id": stored.inbox_id, "status": inbox_status.PROCESSED, "processed_at": utcnow(),
                "normalised": events, "error_class": None, "error": None,
                "customer_external_id": _first_customer(events) or row["customer_external_id"]}

    def _runs_of(self, stored: StoredNotification, event: dict[str, Any]) -> None:
        """As ``process.apply_event``: the engine's rules across recipes, one run each."""
        ref = event["customer"]["external_id"]
        customer_id, recipes = self.customers.id_of(ref), self.matching[id(event)]
        if customer_id is None or not recipes:
            reason = ("no recipe matched this event" if customer_id else
                      f"no hub customer with external id {ref}")
            self._skipped(stored, event, customer_id, reason)
            return
        occurred_at = parse_time(event["occurred_at"], "occurred_at")
        for recipe, evaluation in evaluate_in_order(recipes, event, self._snapshot(customer_id, ref)):
            run = self._new_run(stored, recipe, customer_id, ref)
            plan, trace = list(evaluation.plan), list(evaluation.trace)
            run["trace"] = trace
            try:
                outcomes = self._assign(run, recipe, customer_id, plan, occurred_at) if plan else []
            except HubError as exc:
                run["updates"] = [u.to_dict() for u in plan]
                self._finish(run, run_status.FAILED, exc.message, exc.error_class)
                continue
            run["updates"] = [{**u.to_dict(), **o.to_dict()} for u, o in zip(plan, outcomes, strict=True)]
            self._finish(run, *status_of(outcomes, evaluation.matched))

    def _assign(self, run: dict[str, Any], recipe: Recipe, customer_id: str, plan: list,
                occurred_at: datetime) -> list:
        writes = [field_write(self.session, u) for u in plan]
        cause = Cause("run", str(run["id"]), f"recipe:{recipe.name}@v{run['recipe_version'] or '?'}")
        try:
            return self.batch.assign(customer_id, writes, source=recipe.source, occurred_at=occurred_at,
                                     cause=cause)
        except ValidationFailed as exc:  # unknown user in a recipe: fix the data, then replay
            raise ConfigError(exc.message, details=exc.details) from exc

    def _snapshot(self, customer_id: str, external_id: str) -> dict[str, Any]:
        """The customer as recipes see it (``snapshot.*``), after the batch's earlier changes."""
        state = self.batch.view(customer_id)
        return {"external_id": external_id, "dunningPlanId": state.workflow_id,
                "workflow_name": self._names.get(state.workflow_id) if state.workflow_id else None,
                "account_managers": sorted(state.managers), "custom_fields": dict(state.custom_fields)}

    def _new_run(self, stored: StoredNotification, recipe: Recipe | None, customer_id: str | None,
                 external_id: str | None) -> dict[str, Any]:
        now = utcnow()
        run: dict[str, Any] = {
               "id": next(self._ids), "inbox_event_id": stored.inbox_id, "connection": stored.connection,
               "recipe_name": recipe.name if recipe else None,
               "recipe_version": self.loaded.versions.get(recipe.name) if recipe else None,
               "recipe_hash": recipe.content_hash if recipe else None, "customer_id": customer_id,
               "customer_external_id": external_id, "status": run_status.SUCCEEDED, "error_class": None,
               "message": None, "attempts": 1, "next_attempt_at": None, "started_at": now,
               "finished_at": None, "duration_ms": None, "trace": [], "updates": [], "replay_of_id": None,
               "resolved_by_id": None, "created_at": now}
        self.rows.append(run)
        return run

    def _skipped(self, stored: StoredNotification, event: dict[str, Any] | None, customer_id: str | None,
                 reason: str) -> None:
        run = self._new_run(stored, None, customer_id, event["customer"]["external_id"] if event else None)
        run["trace"] = [{"kind": "note", "message": reason}]
        self._finish(run, run_status.SKIPPED, reason, None)
        run["finished_at"], run["duration_ms"] = run["started_at"], 0.0

    @staticmethod
    def _finish(run: dict[str, Any], status: str, message: str, error_class: str | None) -> None:
        run["status"], run["message"], run["error_class"] = status, message, error_class
        run["finished_at"] = utcnow()
        run["duration_ms"] = round((run["finished_at"] - run["started_at"]).total_seconds() * 1000, 3)

    def write(self) -> None:
        bulk.insert_rows(self.session, RUNS, self.rows)
