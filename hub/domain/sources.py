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
# Sources whose account managers become users when no user has the email yet: a CRM owner is a
# colleague already, not someone to invite.
CREATES_MISSING_USERS = frozenset({Source.SALESFORCE})


def rank(source: str | None) -> int:
    """Rank of a source; an unowned field has rank 0 so anything may write it."""
    return RANK.get(source, 0) if source else 0


def is_source(value: str) -> bool:
    return value in RANK


def fields_allowed(source: str) -> tuple[str, ...] | None:
    """The only fields a source may write, or None when it may write any."""
    return FIELDS_ALLOWED.get(source)


def may_write(source: str, field: str) -> bool:
    allowed = fields_allowed(source)
    return allowed is None or field in allowed


def creates_missing_users(source: str) -> bool:
    return source in CREATES_MISSING_USERS
