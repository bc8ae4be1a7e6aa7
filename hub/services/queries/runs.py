"""The run log as ops read it: filters, paging, one run with its trace and outcomes.

Each read is its own read-only unit of work; the rows it returns stay readable after it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, select

from hub.db.models import InboxEvent, RecipeRun
from hub.db.models.runs import FAILED, RUN_STATUSES
from hub.errors import InvalidInput, ValidationFailed
from hub.services.hub import Hub
from hub.services.ingest.inbox import delivered_headers
from hub.services.pages import Page, newest_first
from hub.services.payloads import parse_time
from hub.services.uow import get_row

__all__ = ["FILTER_KEYS", "RESOLVED_CHOICES", "RUN_STATUSES", "RunDetail", "RunFilter", "RunLog",
           "count_by_status", "count_runs", "get_run", "list_runs", "resolved_filter", "run_detail",
           "run_log"]

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


def list_runs(hub: Hub, flt: RunFilter, offset: int, limit: int, oldest_first: bool = False
              ) -> Page[RecipeRun]:
    return newest_first(hub, RecipeRun, flt.apply, offset, limit, reverse=oldest_first)


def count_runs(hub: Hub, flt: RunFilter) -> int:
    """How many runs match: what a bulk replay of this filter would go through at most."""
    with hub.uow(read_only=True) as uow:
        return uow.session.scalar(flt.apply(select(func.count(RecipeRun.id)))) or 0


def count_by_status(hub: Hub, flt: RunFilter, resolved: str | None = None) -> dict[str, int]:
    """How many runs of each status match ``flt`` whatever its own status, each counted as
    listing that status would (``status=failed`` leaves resolved failures out unless
    ``resolved``, the filter's raw value, says otherwise). One GROUP BY, read-only."""
    wider = replace(flt, status=None, resolved=None)
    is_resolved = RecipeRun.resolved_by_id.is_not(None)
    stmt = wider.apply(select(RecipeRun.status, is_resolved, func.count(RecipeRun.id)))
    with hub.uow(read_only=True) as uow:
        rows = uow.session.execute(stmt.group_by(RecipeRun.status, is_resolved)).all()
    counts = dict.fromkeys(RUN_STATUSES, 0)
    for status, was_resolved, found in rows:
        wanted = resolved_filter(resolved, status)
        if wanted is None or wanted == bool(was_resolved):
            counts[status] = counts.get(status, 0) + found
    return counts


@dataclass(frozen=True)
class RunLog:
    page: Page[RecipeRun]
    counts: dict[str, int] | None  # by status, whatever the filter's status; None if not asked


def run_log(hub: Hub, flt: RunFilter, resolved: str | None, offset: int, limit: int,
            oldest_first: bool = False, with_counts: bool = True) -> RunLog:
    """The run log page: one page of runs and, unless only the rows are refreshed, the counts."""
    counts = count_by_status(hub, flt, resolved) if with_counts else None
    return RunLog(list_runs(hub, flt, offset, limit, oldest_first), counts)


@dataclass(frozen=True)
class RunDetail:
    run: RecipeRun
    event: InboxEvent | None  # None once the inbox pruned it
    headers: dict[str, str]  # of the delivery that brought the event, secrets left out (again)


def get_run(hub: Hub, run_id: int) -> RecipeRun:
    with hub.uow(read_only=True) as uow:
        return get_row(uow.session, RecipeRun, run_id, what="run", code="run_not_found")


def run_detail(hub: Hub, run_id: int) -> RunDetail:
    """One run with the event it ran on and that event's delivery headers."""
    with hub.uow(read_only=True) as uow:
        run = get_row(uow.session, RecipeRun, run_id, what="run", code="run_not_found")
        event = uow.session.get(InboxEvent, run.inbox_event_id) if run.inbox_event_id else None
        return RunDetail(run, event, delivered_headers(uow.session, event))
