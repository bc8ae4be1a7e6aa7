"""Page query strings, validated like the API's: an unknown or malformed parameter is a 400 page
that names it, never a silently wider list (a filter typo must not show every run)."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import request

from hub.errors import InvalidInput

Parser = Callable[[str], Any]


def text(max_length: int = 200) -> Parser:
    def parse(raw: str) -> str:
        if len(raw) > max_length:
            raise ValueError(f"at most {max_length} characters")
        return raw.strip()
    return parse


def choice(*allowed: str) -> Parser:
    def parse(raw: str) -> str:
        if raw not in allowed:
            raise ValueError(f"one of {', '.join(allowed)}")
        return raw
    return parse


def integer(minimum: int = 0, maximum: int = 2**63 - 1) -> Parser:
    def parse(raw: str) -> int:
        value = int(raw)
        if not minimum <= value <= maximum:
            raise ValueError(f"between {minimum} and {maximum}")
        return value
    return parse


def moment(raw: str) -> datetime:
    """An ISO date-time from a form's datetime-local field (taken as UTC) or a pasted ISO value."""
    value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def read_query(allowed: Mapping[str, Parser], source: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The query string (or ``source``, a posted form's fields) as typed values; empty fields
    (a form's blank filter) count as absent."""
    values: dict[str, Any] = dict.fromkeys(allowed)
    given = request.args if source is None else source
    for name in given:
        if name not in allowed:
            close = difflib.get_close_matches(name, list(allowed), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise InvalidInput(f"unknown parameter {name!r}{hint}", code="parameter_unknown")
        raw = given.get(name, "")
        if raw == "":
            continue
        try:
            values[name] = allowed[name](raw)
        except (ValueError, OverflowError) as exc:
            raise InvalidInput(f"{name}: {raw!r} is not valid ({exc})", code="parameter_invalid") from exc
    return values


def with_query(values: Mapping[str, Any], **changes: Any) -> str:
    """The same filter with some values changed: for paging, sorting and bookmarkable links."""
    merged = {**values, **changes}
    kept = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in merged.items()
            if v not in (None, "")}
    return "?" + urlencode(kept) if kept else "?"
