"""The run log as ops read it: filters, paging, one run with its trace and outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from hub.db.models import RecipeRun
from hub.db.models.runs import FAILED
from hub.errors import InvalidInput, NotFound, ValidationFailed
from hub.services.payloads import parse_time
from hub.services.representation import iso

FILTER_KEYS = ("status", "connection", "recipe", "customer", "error_class", "since", "until", "event",
               "resolved")
RESOLVED_CHOICES = ("true", "false", "any")


@dataclass(frozen=True)
class RunFilter:
    status: str | None = None
    connection: str | None = None
    recipe: str | None = None
    customer: str | None = None  # external id
    error_class: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    event: int | None = None
    resolved: bool | None = None  # None: resolved or not

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> RunFilter:
        unknown = set(values) - set(FILTER_KEYS)
        if unknown:
            raise ValidationFailed(f"unknown run filters: {', '.join(sorted(unknown))}")
        since, until = values.get("since"), values.get("until")
        return cls(
            status=values.get("status"), connection=values.get("connection"),
            recipe=values.get("recipe"), customer=values.get("customer"),
            error_class=values.get("error_class"),
            since=parse_time(since, "since") if since else None,
            until=parse_time(until, "until") if until else None,
            event=int(values["event"]) if values.get("event") else None,
            resolved=resolved_filter(values.get("resolved"), values.get("status")),
        )

    def apply(self, stmt: Select) -> Select:
        c = []
        for value, column in ((self.status, RecipeRun.status), (self.connection, RecipeRun.connection),
                              (self.recipe, RecipeRun.recipe_name),
                              (self.customer, RecipeRun.customer_external_id),
                              (self.error_class, RecipeRun.error_class),
                              (self.event, RecipeRun.inbox_event_id)):
            if value is not None:
                c.append(column == value)
        if self.resolved is not None:
            c.append(RecipeRun.resolved_by_id.is_not(None) if self.resolved
                     else RecipeRun.resolved_by_id.is_(None))
        if self.since:
            c.append(RecipeRun.created_at >= self.since)
        if self.until:
            c.append(RecipeRun.created_at < self.until)
        return stmt.where(and_(*c)) if c else stmt


def resolved_filter(value: Any, status: str | None) -> bool | None:
    """Failed runs a replay resolved are left out of ``status=failed`` unless asked for."""
    if value is None:
        return False if status == FAILED else None
    if value not in RESOLVED_CHOICES:
        raise InvalidInput(f"resolved must be one of {', '.join(RESOLVED_CHOICES)}, not {value!r}",
                           code="parameter_invalid", details={"parameter": "resolved"})
    return None if value == "any" else value == "true"


def list_runs(session: Session, flt: RunFilter, offset: int, limit: int) -> tuple[int, list[RecipeRun]]:
    total = session.scalar(flt.apply(select(func.count(RecipeRun.id)))) or 0
    rows = session.scalars(flt.apply(select(RecipeRun)).order_by(RecipeRun.id.desc())
                           .offset(offset).limit(limit))
    return total, list(rows)


def get_run(session: Session, run_id: int) -> RecipeRun:
    run = session.get(RecipeRun, run_id)
    if run is None:
        raise NotFound(f"run {run_id} not found", code="run_not_found")
    return run


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
