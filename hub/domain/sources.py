"""Sources of assignment writes and their precedence (contract: DESIGN.md, 'Sources and precedence')."""

from __future__ import annotations

from enum import StrEnum


class Source(StrEnum):
    SALESFORCE = "salesforce"
    API = "api"
    SMART_RULE = "smart_rule"
    CSV = "csv"
    MANUAL = "manual"


RANK: dict[str, int] = {
    Source.SALESFORCE: 4,
    Source.API: 3,
    Source.SMART_RULE: 2,
    Source.CSV: 1,
    Source.MANUAL: 1,
}

# Salesforce is the source of truth for account managers only.
FIELDS_ALLOWED: dict[str, tuple[str, ...] | None] = {Source.SALESFORCE: ("account_managers",)}


def rank(source: str | None) -> int:
    """Rank of a source; an unowned field has rank 0 so anything may write it."""
    return RANK.get(source, 0) if source else 0


def is_source(value: str) -> bool:
    return value in RANK


def may_write(source: str, field: str) -> bool:
    allowed = FIELDS_ALLOWED.get(source)
    return allowed is None or field in allowed
