"""Processing one inbox event: connector normalisation → matching recipes → assignment service,
in one transaction, with one run per (event, recipe) in the run log.

Idempotent: the inbox row is locked and checked first, so an event that was already processed
(a redelivered task, a sweeper's second enqueue) changes nothing and adds no history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors import registry
from connectors.base import StoredNotification
from hub.db.models import Customer, InboxEvent, RecipeRun
from hub.db.models import inbox as inbox_status
from hub.db.models import runs as run_status
from hub.db.types import new_id, utcnow
from hub.errors import ConfigError, HubError, RetryableError, ServiceUnavailable
from hub.recipes import Recipe, evaluate_in_order, matching_recipes
from hub.services.hub import Hub
from hub.services.payloads import parse_time
from hub.services.processing.apply import apply_plan, snapshot_of
from hub.services.processing.retries import record_event_failure
from hub.services.recipes.store import LoadedRecipes

log = logging.getLogger(__name__)
PROFILE = {"name": "name", "email": "email", "currency": "currency", "payment_method": "payment_method"}


@dataclass(frozen=True)
class Processed:
    status: str  # processed | already | retrying | failed | missing
    run_ids: tuple[int, ...] = ()


def process_event(hub: Hub, inbox_id: int) -> Processed:
    """One event on its own: retries, replays and a batch that fell back come this way."""
    stored = _load(hub, inbox_id)
    if stored is None:
        return Processed("already")
    started = utcnow()
    try:
        events = hub.connections.connector(stored.connection).normalise(stored)
    except HubError as exc:
        return Processed(record_event_failure(hub, inbox_id, exc, started, customer_ref(hub, stored)))
    return apply_normalised(hub, inbox_id, events, started)


def apply_normalised(hub: Hub, inbox_id: int, events: list[dict[str, Any]], started: datetime) -> Processed:
    """Run the recipes on an event's normalised form and apply them, in a transaction of its own."""
    customer = events[0]["customer"]["external_id"] if events else None
    try:
        return _apply_all(hub, inbox_id, events)
    except ServiceUnavailable:
        raise  # the database is down: nothing can be recorded; the task retries
    except HubError as exc:
        return Processed(record_event_failure(hub, inbox_id, exc, started, customer))
    except Exception as exc:  # a deadlock or a bug: retried a few times, then failed and replayable
        log.exception("processing event %s failed unexpectedly", inbox_id)
        error = RetryableError(f"unexpected {type(exc).__name__}: {exc}", code="internal_error")
        return Processed(record_event_failure(hub, inbox_id, error, started, customer))


def customer_ref(hub: Hub, stored: StoredNotification) -> str | None:
    """Whom a notification that did not normalise is about, as far as its payload says."""
    try:
        connector = hub.connections.connector(stored.connection)
    except HubError:
        return None  # a broken connection: the failure says so, without a customer
    return connector.customer_ref(stored)


def _apply_all(hub: Hub, inbox_id: int, events: list[dict[str, Any]]) -> Processed:
    try:
        return _apply_once(hub, inbox_id, events)
    except IntegrityError:
        # Two events of one new customer processed at once and the other worker created it:
        # this time the customer exists and we wait for its row lock.
        return _apply_once(hub, inbox_id, events)


def _apply_once(hub: Hub, inbox_id: int, events: list[dict[str, Any]]) -> Processed:
    loaded = usable_recipes(hub)
    with hub.uow() as uow:
        row = _lock(uow.session, inbox_id)
        if row is None or row.status in (inbox_status.PROCESSED, inbox_status.IGNORED):
            return Processed("already")
        run_ids = [rid for event in events for rid in apply_event(uow.session, row, event, loaded)]
        if not events:  # e.g. a Salesforce Account without the match field, a deleted customer
            run_ids = [_skipped_run(uow.session, row, None, None,
                                    "the connector found nothing to apply for this notification", None).id]
        _finish(uow.session, row, events)
        uow.commit()
    return Processed("processed", tuple(run_ids))


def usable_recipes(hub: Hub) -> LoadedRecipes:
    """The recipes to run; ConfigError when there is no good set, neither here nor in the
    database (recipes.store): running none would mark events done with nothing applied."""
    loaded = hub.recipes.current()
    if loaded.refused and not loaded.recipes:
        errors = "; ".join(str(p) for p in loaded.problems if p.is_error)[:1000]
        raise ConfigError(f"the recipes folder was refused, fix it and replay: {errors}",
                          code="recipes_refused")
    return loaded


def _load(hub: Hub, inbox_id: int) -> StoredNotification | None:
    with hub.uow() as uow:
        row = uow.session.get(InboxEvent, inbox_id)
        if row is None or row.status in (inbox_status.PROCESSED, inbox_status.IGNORED,
                                         inbox_status.FAILED):
            return None
        return stored_notification(row)


def stored_notification(row: InboxEvent) -> StoredNotification:
    return StoredNotification(
        inbox_id=row.id, connection=row.connection, vendor_event_id=row.vendor_event_id,
        event_type=row.event_type, occurred_at=row.occurred_at, payload=row.payload,
        received_at=row.received_at,
    )


def _lock(session: Session, inbox_id: int) -> InboxEvent | None:
    stmt = select(InboxEvent).where(InboxEvent.id == inbox_id).with_for_update()
    return session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()


def _finish(session: Session, row: InboxEvent, events: list[dict[str, Any]]) -> None:
    row.processed_at = utcnow()
    row.normalised = events
    row.error_class = row.error = None
    if events:
        row.customer_external_id = events[0]["customer"]["external_id"]
    retried, row.status = row.status == inbox_status.RETRYING, inbox_status.PROCESSED
    if retried:
        resolve_stage_runs(session, [row.id])


def resolve_stage_runs(session: Session, inbox_ids: list[int]) -> None:
    """An earlier retryable failure of these events (now processed) is resolved."""
    for run in session.scalars(select(RecipeRun).where(
            RecipeRun.inbox_event_id.in_(inbox_ids), RecipeRun.recipe_name.is_(None),
            RecipeRun.status == run_status.RETRYING)):
        run.status, run.next_attempt_at = run_status.SUCCEEDED, None
        run.message = f"normalised after {run.attempts + 1} attempts"
        run.finished_at = utcnow()


def apply_event(session: Session, row: InboxEvent, event: dict[str, Any], loaded: LoadedRecipes,
                only: tuple[Recipe, ...] | None = None, replay_of: int | None = None) -> list[int]:
    """Run the recipes an event triggers, one run each, under the engine's rules across recipes
    (in order, the first to write a field wins it, nothing after `stop: all`)."""
    customer = _customer_for(session, row.connector, event)
    recipes = only if only is not None else matching_recipes(loaded.recipes, event)
    if customer is None or not recipes:
        reason = ("no recipe matched this event" if customer is not None else
                  f"no hub customer with external id {event['customer']['external_id']}")
        return [_skipped_run(session, row, event, customer, reason, replay_of).id]
    run_ids = []
    for recipe, evaluation in evaluate_in_order(recipes, event, snapshot_of(customer)):
        run = _new_run(session, row, event, customer, recipe, loaded, replay_of)
        with session.no_autoflush:  # each row written once, at commit, not after every query
            apply_plan(session, run, customer, recipe, list(evaluation.plan),
                       list(evaluation.trace), event, evaluation.matched)
        run_ids.append(run.id)
    return run_ids


def _customer_for(session: Session, connector: str, event: dict[str, Any]) -> Customer | None:
    """The event's customer, row-locked for the rest of the transaction (created if new)."""
    data = event["customer"]
    customer = session.scalars(select(Customer).where(Customer.external_id == data["external_id"])
                               .with_for_update(of=Customer)).unique().one_or_none()
    if customer is None:
        if not registry.get_connector_class(connector).creates_customers:  # a CRM only matches
            return None
        # empty relationships up front: a new customer needs no lazy loads
        customer = Customer(id=new_id(), external_id=data["external_id"], source_system=connector,
                            custom_fields={}, account_managers=[], ownership={})
        session.add(customer)
    _update_profile(customer, data, parse_time(event["occurred_at"], "occurred_at"))
    return customer


def _update_profile(customer: Customer, data: dict[str, Any], occurred_at: datetime) -> None:
    """Profile data is the vendor's; an event older than the last one applied changes nothing."""
    if customer.profile_changed_at and occurred_at < customer.profile_changed_at:
        return
    for key, attr in PROFILE.items():
        if data.get(key) is not None:
            setattr(customer, attr, data[key])
    customer.profile_changed_at = occurred_at


def _new_run(session: Session, row: InboxEvent, event: dict[str, Any], customer: Customer,
             recipe: Recipe, loaded: LoadedRecipes, replay_of: int | None) -> RecipeRun:
    run = RecipeRun(
        inbox_event_id=row.id, connection=row.connection, recipe_name=recipe.name,
        recipe_version=loaded.versions.get(recipe.name), recipe_hash=recipe.content_hash,
        customer_id=customer.id, customer_external_id=customer.external_id,
        status=run_status.SUCCEEDED, started_at=utcnow(), replay_of_id=replay_of,
        attempts=1,
    )
    session.add(run)
    session.flush()
    return run


def _skipped_run(session: Session, row: InboxEvent, event: dict[str, Any] | None,
                 customer: Customer | None, reason: str, replay_of: int | None) -> RecipeRun:
    run = RecipeRun(
        inbox_event_id=row.id, connection=row.connection, recipe_name=None,
        customer_id=customer.id if customer else None,
        customer_external_id=event["customer"]["external_id"] if event else None,
        status=run_status.SKIPPED,
        message=reason, started_at=utcnow(), finished_at=utcnow(), duration_ms=0.0,
        replay_of_id=replay_of, trace=[{"kind": "note", "message": reason}],
    )
    session.add(run)
    session.flush()
    return run

