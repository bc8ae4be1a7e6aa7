"""The dashboard: each connection's traffic and refusals, runs by status per hour, latest failures.

Every number is an aggregate (GROUP BY in SQL) read in one read-only unit of work. Hours are
bucketed with a CASE over bound hour boundaries, which SQLite and PostgreSQL read alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from hub.db.models import InboxEvent, RecipeRun, SecurityEvent
from hub.db.models import inbox as inbox_status
from hub.db.models.runs import FAILED, RUN_STATUSES
from hub.db.types import utcnow
from hub.services.directory.connections import INVALID, OK
from hub.services.hub import Hub

HOURS = 24
LATEST_FAILURES = 10
UNCONFIGURED = "unconfigured"  # events stored under a connection the configuration no longer has
WAITING = (inbox_status.RECEIVED, inbox_status.RETRYING)
Traffic = dict[str, dict[str, Any]]  # connection -> ConnectionActivity's counts (and "oldest")


@dataclass(frozen=True)
class ConnectionActivity:
    name: str
    connector: str | None
    state: str  # ok / invalid / unconfigured
    last_hour: int = 0
    last_day: int = 0
    refused_day: int = 0
    waiting: int = 0  # stored, not processed yet
    queue_lag_seconds: float = 0.0  # age of the oldest waiting event
    last_event_at: datetime | None = None


@dataclass(frozen=True)
class RunChart:
    hours: list[datetime]  # the start of each hour bucket, oldest first
    counts: dict[str, list[int]]  # run status -> runs created in each hour

    def total(self, status: str) -> int:
        return sum(self.counts.get(status, []))


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    connections: list[ConnectionActivity]
    runs: RunChart
    failures: list[RecipeRun]  # failed, not resolved by a replay, newest first


def dashboard(hub: Hub, now: datetime | None = None) -> Dashboard:
    now = now or utcnow()
    with hub.uow(read_only=True) as uow:
        s = uow.session
        traffic = _traffic(s, now)
        chart = _runs_by_hour(s, now)
        failures = list(s.scalars(select(RecipeRun).where(
            RecipeRun.status == FAILED, RecipeRun.resolved_by_id.is_(None))
            .order_by(RecipeRun.id.desc()).limit(LATEST_FAILURES)))
    return Dashboard(now, _per_connection(hub, traffic, now), chart, failures)


def _traffic(s: Session, now: datetime) -> Traffic:
    """Connection → counts: received in the last hour and day, refused, waiting, last event."""
    hour_ago, day_ago = now - timedelta(hours=1), now - timedelta(days=1)
    found: Traffic = {}
    recent = s.execute(select(InboxEvent.connection, func.count(),
                              func.sum(case((InboxEvent.received_at >= hour_ago, 1), else_=0)))
                       .where(InboxEvent.received_at >= day_ago).group_by(InboxEvent.connection))
    for name, day, hour in recent:
        found.setdefault(name, {}).update(last_day=day, last_hour=int(hour or 0))
    for name, last in s.execute(select(InboxEvent.connection, func.max(InboxEvent.received_at))
                                .group_by(InboxEvent.connection)):
        found.setdefault(name, {})["last_event_at"] = last
    for name, waiting, oldest in s.execute(
            select(InboxEvent.connection, func.count(), func.min(InboxEvent.received_at))
            .where(InboxEvent.status.in_(WAITING)).group_by(InboxEvent.connection)):
        found.setdefault(name, {}).update(waiting=waiting, oldest=oldest)
    for name, refused in s.execute(select(SecurityEvent.connection, func.count())
                                   .where(SecurityEvent.created_at >= day_ago)
                                   .group_by(SecurityEvent.connection)):
        found.setdefault(name, {})["refused_day"] = refused
    return found


def _per_connection(hub: Hub, traffic: Traffic, now: datetime) -> list[ConnectionActivity]:
    """Every configured connection (usable or broken), even without events, then any other
    connection the stored rows still name."""
    report = hub.connections.report()
    known: dict[str, tuple[str | None, str]] = {n: (c.connector, OK) for n, c in report.connections.items()}
    known.update({n: (b.connector, INVALID) for n, b in report.broken.items()})
    known.update({n: (None, UNCONFIGURED) for n in traffic if n not in known})
    items = []
    for name, (connector, state) in sorted(known.items()):
        seen = dict(traffic.get(name, {}))
        oldest = seen.pop("oldest", None)
        lag = max(0.0, (now - oldest).total_seconds()) if isinstance(oldest, datetime) else 0.0
        items.append(ConnectionActivity(name, connector, state, queue_lag_seconds=lag, **seen))
    return items


def _runs_by_hour(s: Session, now: datetime) -> RunChart:
    """Runs created in each of the last 24 clock hours (the current one included), by status."""
    current = now.replace(minute=0, second=0, microsecond=0)
    hours = [current - timedelta(hours=HOURS - 1 - i) for i in range(HOURS)]
    bucket = case(*[(RecipeRun.created_at >= start, i) for i, start in reversed(list(enumerate(hours)))])
    # Grouped outside a subquery: PostgreSQL would not match a GROUP BY that repeats the bound hours.
    runs = (select(bucket.label("hour"), RecipeRun.status.label("status"))
            .where(RecipeRun.created_at >= hours[0]).subquery())
    counts = {status: [0] * HOURS for status in RUN_STATUSES}
    rows = s.execute(select(runs.c.hour, runs.c.status, func.count())
                     .group_by(runs.c.hour, runs.c.status))
    for index, status, n in rows:
        if index is not None:
            counts.setdefault(status, [0] * HOURS)[int(index)] += n
    return RunChart(hours, counts)
