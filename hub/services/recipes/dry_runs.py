"""Recipes as integrators inspect them: the loaded set, versions, and dry runs on an event.

A dry run evaluates the recipe against the customer's current state and asks the assignment
service what it would decide, inside a transaction that is never committed: the answer is
exact (precedence, staleness) and nothing is written.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.db.models import Customer, InboxEvent, RecipeVersion
from hub.errors import NotFound
from hub.recipes import Recipe, evaluate_in_order
from hub.services.hub import Hub
from hub.services.payloads import validate
from hub.services.processing.apply import dry_outcomes, snapshot_of
from hub.services.processing.process import stored_notification
from hub.services.representation import iso


def recipe_summaries(hub: Hub) -> dict[str, Any]:
    loaded = hub.recipes.current()
    problems = [p.to_dict() for p in loaded.problems]
    recipes = [{**r.summary(), "version": loaded.versions.get(r.name),
                "problems": [p for p in problems if p["file"] == r.file]} for r in loaded.recipes]
    return {"folder": str(hub.recipes.folder), "refused": loaded.refused,
            "problems": problems, "recipes": recipes}


def recipe_detail(hub: Hub, name: str) -> dict[str, Any]:
    loaded = hub.recipes.current()
    current = _find(loaded.recipes, name)
    with hub.uow() as uow:
        versions = list(uow.session.scalars(select(RecipeVersion).where(RecipeVersion.name == name)
                                            .order_by(RecipeVersion.version.desc())))
        if current is None and not versions:
            raise NotFound(f"no recipe named {name!r}", code="recipe_not_found")
        return {
            "name": name,
            "current": {**current.summary(), "version": loaded.versions.get(name)} if current else None,
            "yaml": current.text if current else versions[0].content,
            "validation": {"refused": loaded.refused,
                           "problems": [p.to_dict() for p in loaded.problems
                                        if current is None or p.file == current.file]},
            "versions": [{"version": v.version, "hash": v.content_hash, "loadedAt": iso(v.loaded_at),
                          "current": v.is_current, "path": v.path} for v in versions],
        }


def dry_run(hub: Hub, name: str, event: dict[str, Any] | None, event_id: int | None) -> dict[str, Any]:
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
            results.append({**evaluation.to_dict(), "customerExists": customer is not None,
                            "outcomes": outcomes})
    return {"recipe": name, "version": hub.recipes.current().versions.get(name), "dryRun": True,
            "results": results}


def _stored_events(hub: Hub, event_id: int | None) -> list[dict[str, Any]]:
    with hub.uow() as uow:
        row = uow.session.get(InboxEvent, event_id) if event_id is not None else None
        if row is None:
            raise NotFound(f"event {event_id} not found")
        events, stored = row.normalised, stored_notification(row)
    return events if events is not None else hub.connections.connector(stored.connection).normalise(stored)


def _find(recipes: tuple[Recipe, ...], name: str) -> Recipe | None:
    return next((r for r in recipes if r.name == name), None)
