"""The precedence rule as a pure function: may this write change this field now?

A write is allowed when its source ranks higher than the field's owner, or ranks the same and
is not older than the change that set the field. That makes the state monotone in
(rank, time): whatever order writes arrive in, the highest (rank, time) write wins.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from hub.domain.sources import may_write, rank

APPLIED = "applied"
UNCHANGED = "unchanged"
OVERRULED = "overruled"
STALE = "stale"
REFUSED = "refused"
OUTCOMES = (APPLIED, UNCHANGED, OVERRULED, STALE, REFUSED)


@dataclass(frozen=True)
class Ownership:
    source: str | None
    changed_at: datetime | None


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    outcome: str  # applied when allowed, otherwise overruled, stale or refused
    reason: str


@functools.lru_cache(maxsize=4096)
def judge(field: str, owner: Ownership, source: str, occurred_at: datetime) -> Verdict:
    """Decide a write against the field's current owner; the value comparison comes later.

    Pure, so its answers are kept: a batch of import lines asks the same few questions (one
    source and time, a handful of fields and owners) thousands of times.
    """
    if not may_write(source, field):
        return Verdict(False, REFUSED, f"source {source} may not write {field}")
    mine, theirs = rank(source), rank(owner.source)
    if mine > theirs or owner.source is None:
        return Verdict(True, APPLIED, _ranked_reason(source, owner))
    if mine < theirs:
        return Verdict(False, OVERRULED, f"field is owned by {owner.source}, which ranks higher")
    if owner.changed_at is not None and occurred_at < owner.changed_at:
        return Verdict(
            False,
            STALE,
            f"change from {occurred_at.isoformat()} is older than the applied change from "
            f"{owner.changed_at.isoformat()} ({owner.source})",
        )
    return Verdict(True, APPLIED, f"same rank as {owner.source} and not older")


def _ranked_reason(source: str, owner: Ownership) -> str:
    if owner.source is None:
        return "field had no owner"
    return f"{source} ranks above {owner.source}"
