"""Turning one recipe's plan into assignment writes, and recording the run's outcome."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import Customer, RecipeRun
from hub.db.models import runs as run_status
from hub.db.types import utcnow
from hub.domain import precedence
from hub.errors import ConfigError, HubError, ValidationFailed
from hub.recipes import PlannedUpdate, Recipe
from hub.services.assignment import AssignmentService, Cause, FieldWrite
from hub.services.directory.workflows import normalise_name, workflows_by_name
from hub.services.payloads import parse_time

NOT_APPLIED = (precedence.OVERRULED, precedence.STALE, precedence.REFUSED)


def snapshot_of(customer: Customer) -> dict[str, Any]:
    """The customer's current state as recipes see it (``snapshot.*`` fields)."""
    return {
        "external_id": customer.external_id,
        "dunningPlanId": customer.workflow_id,
        "workflow_name": customer.workflow.name if customer.workflow else None,
        "account_managers": [u.email for u in customer.account_managers],
        "custom_fields": dict(customer.custom_fields or {}),
    }


def apply_plan(session: Session, run: RecipeRun, customer: Customer, recipe: Recipe,
               plan: list[PlannedUpdate], trace: list[dict[str, Any]], event: dict[str, Any],
               matched: bool) -> None:
    # The run row is changed only after the writes, so it is updated once, at commit.
    try:  # the assignment service checks everything before it writes: a refusal writes nothing
        outcomes = _write(session, run, customer, recipe, plan, event) if plan else []
    except HubError as exc:
        run.trace, run.updates = trace, [u.to_dict() for u in plan]
        _finish(run, run_status.FAILED, exc.message, exc.error_class)
        return
    run.trace = trace
    run.updates = [{**u.to_dict(), **o.to_dict()} for u, o in zip(plan, outcomes, strict=True)]
    _finish(run, *status_of(outcomes, matched))


def _write(session: Session, run: RecipeRun, customer: Customer, recipe: Recipe,
           plan: list[PlannedUpdate], event: dict[str, Any]) -> list:
    writes = [field_write(session, u) for u in plan]
    cause = Cause("run", str(run.id), f"recipe:{recipe.name}@v{run.recipe_version or '?'}")
    try:
        return AssignmentService(session).assign(
            customer.id, writes, source=recipe.source,
            occurred_at=parse_time(event["occurred_at"], "occurred_at"), cause=cause)
    except ValidationFailed as exc:  # unknown user in a recipe: fix the data, then replay
        raise ConfigError(exc.message, details=exc.details) from exc


def field_write(session: Session, update: PlannedUpdate) -> FieldWrite:
    """A recipe's planned update as the assignment service takes it (workflows by id)."""
    if update.field != "workflow":
        value = tuple(update.value) if isinstance(update.value, list) else update.value
        return FieldWrite(update.field, value, update.op)
    ref = update.value or {}
    if "id" in ref:
        return FieldWrite("workflow", str(ref["id"]))
    by_name = session.info.get("workflows_by_name")
    if by_name is None:  # once per transaction: recipes name workflows, runs look them up often
        by_name = session.info["workflows_by_name"] = workflows_by_name(session)
    workflow = by_name.get(normalise_name(str(ref.get("name", ""))))
    if workflow is None:
        raise ConfigError(f"workflow {ref.get('name')!r} does not exist; create it, then replay",
                          code="unknown_workflow")
    return FieldWrite("workflow", workflow.id)


def status_of(outcomes: list, matched: bool) -> tuple[str, str, None]:
    """A run's status and message from its outcomes: (status, message, error class)."""
    if not matched:
        return run_status.SKIPPED, "the recipe's guard or trigger did not match", None
    if not outcomes:
        return run_status.SKIPPED, "the recipe planned no update", None
    names = [o.outcome for o in outcomes]
    if all(n == precedence.STALE for n in names):
        return run_status.SKIPPED, "stale: newer changes were already applied", None
    if any(n in NOT_APPLIED for n in names):
        refused = ", ".join(f"{o.field} {o.outcome}" for o in outcomes if o.outcome in NOT_APPLIED)
        return run_status.PARTIAL, f"not every update was applied: {refused}", None
    return run_status.SUCCEEDED, ", ".join(f"{o.field} {o.outcome}" for o in outcomes), None


def _finish(run: RecipeRun, status: str, message: str, error_class: str | None) -> None:
    run.status, run.message, run.error_class = status, message, error_class
    run.finished_at = utcnow()
    run.duration_ms = round((run.finished_at - run.started_at).total_seconds() * 1000, 3)


def dry_outcomes(session: Session, customer: Customer | None, recipe: Recipe,
                 plan: list[PlannedUpdate], event: dict[str, Any]) -> list[dict[str, Any]]:
    """What the assignment service would decide for this plan; the caller never commits."""
    if customer is None or not plan:
        return []
    try:
        with session.begin_nested() as savepoint:
            writes = [field_write(session, u) for u in plan]
            outcomes = AssignmentService(session).assign(
                customer.id, writes, source=recipe.source,
                occurred_at=parse_time(event["occurred_at"], "occurred_at"),
                cause=Cause("dry_run", None, f"recipe:{recipe.name}"))
            savepoint.rollback()
    except HubError as exc:
        return [{**u.to_dict(), "outcome": "error", "reason": exc.message} for u in plan]
    return [{**u.to_dict(), **o.to_dict()} for u, o in zip(plan, outcomes, strict=True)]
