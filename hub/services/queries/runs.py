"""The run log as ops read it: filters, paging, one run with its trace and outcomes.

Each read is its own read-only unit of work; the rows it returns stay readable after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_

from hub.db.models import RecipeRun
from hub.db.models.runs import FAILED, RUN_STATUSES
from hub.errors import InvalidInput, ValidationFailed
from hub.services.hub import Hub
from hub.services.pages import Page, newest_first
from hub.services.payloads import parse_time
from hub.services.uow import get_row

__all__ = ["FILTER_KEYS", "RESOLVED_CHOICES", "RUN_STATUSES", "RunFilter", "get_run", "list_runs",
           "resolved_filter"]

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


def list_runs(hub: Hub, flt: RunFilter, offset: int, limit: int) -> Page[RecipeRun]:
    return newest_first(hub, RecipeRun, flt.apply, offset, limit)


def get_run(hub: Hub, run_id: int) -> RecipeRun:
    with hub.uow(read_only=True) as uow:
        return get_row(uow.session, RecipeRun, run_id, what="run", code="run_not_found")
