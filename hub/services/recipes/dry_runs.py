"""Recipes as integrators inspect them: the loaded set, versions, and dry runs on an event.

A dry run evaluates the recipe against the customer's current state and asks the assignment
service what it would decide, inside a transaction that is never committed: the answer is
exact (precedence, staleness) and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hub.db.models import Customer, InboxEvent, RecipeVersion
from hub.errors import NotFound
from hub.recipes import Evaluation, Recipe, evaluate_in_order
from hub.services.hub import Hub
from hub.services.payloads import validate
from hub.services.processing.apply import dry_outcomes, snapshot_of
from hub.services.processing.process import stored_notification
from hub.services.recipes.store import LoadedRecipes
from hub.services.uow import get_row


@dataclass(frozen=True)
class RecipeSet:
    """The recipes this process runs, and the folder they are read from."""

    folder: Path
    loaded: LoadedRecipes


def recipe_summaries(hub: Hub) -> RecipeSet:
    return RecipeSet(hub.recipes.folder, hub.recipes.current())


@dataclass(frozen=True)
class RecipeDetail:
    """One recipe: the loaded one (None when it is not loaded any more) and every stored version,
    newest first."""

    name: str
    current: Recipe | None
    loaded: LoadedRecipes
    versions: list[RecipeVersion]


def recipe_detail(hub: Hub, name: str) -> RecipeDetail:
    loaded = hub.recipes.current()
    current = _find(loaded.recipes, name)
    with hub.uow(read_only=True) as uow:
        versions = list(uow.session.scalars(select(RecipeVersion).where(RecipeVersion.name == name)
                                            .order_by(RecipeVersion.version.desc())))
    if current is None and not versions:
        raise NotFound(f"no recipe named {name!r}", code="recipe_not_found")
    return RecipeDetail(name, current, loaded, versions)


@dataclass(frozen=True)
class DryRunResult:
    """One event: what the recipe planned, and what the assignment service would decide."""

    evaluation: Evaluation
    customer_exists: bool
    outcomes: list[dict[str, Any]]


@dataclass(frozen=True)
class DryRun:
    recipe: str
    version: int | None
    results: list[DryRunResult]


def dry_run(hub: Hub, name: str, event: dict[str, Any] | None, event_id: int | None) -> DryRun:
    recipe = _find(hub.recipes.current().recipes, name)
    if recipe is None:
        raise NotFound(f"no recipe named {name!r} is loaded", code="recipe_not_found")
    events = [validate("event.schema.json", event)] if event is not None else _stored_events(hub, event_id)
    results = []
    with hub.uow() as uow:  # never committed
        for ev in events:
            customer = uow.session.scalars(select(Customer).where(
                Customer.external_id == ev["customer"]["external_id"])).unique().one_or_none()
            snapshot = snapshot_of(customer) if customer else None
            # the orchestration a real run uses, so e.g. a stop: all says what it would skip
            _, evaluation = next(evaluate_in_order((recipe,), ev, snapshot))
            outcomes = dry_outcomes(uow.session, customer, recipe, list(evaluation.plan), ev)
            results.append(DryRunResult(evaluation, customer is not None, outcomes))
    return DryRun(name, hub.recipes.current().versions.get(name), results)


def _stored_events(hub: Hub, event_id: int | None) -> list[dict[str, Any]]:
    with hub.uow() as uow:
        row = get_row(uow.session, InboxEvent, event_id, what="event")
        events, stored = row.normalised, stored_notification(row)
    return events if events is not None else hub.connections.connector(stored.connection).normalise(stored)


def _find(recipes: tuple[Recipe, ...], name: str) -> Recipe | None:
    return next((r for r in recipes if r.name == name), None)
