"""What a vendor notification may hold before it is stored: the checks every connector inherits.

A signed body can still be hostile or broken (a vendor bug, a leaked secret): nested 100,000
deep, numbers no column holds, NUL characters PostgreSQL refuses, a `created` in the year
3,000,000, an id longer than its column. Each would fail later, after the 2xx, where the vendor
can no longer be told, or as a 500 the vendor retries forever. Every check here raises
MalformedBody (400) before anything is stored, and walks without recursion.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from hub.errors import MalformedBody

MAX_DEPTH = 32  # vendors nest 6-8 levels; the hub's own JSON handling must never near recursion limits
MAX_JSON_BYTES = 8 * 1024 * 1024  # the web layer's HUB_MAX_REQUEST_BYTES (1 MiB) normally stops far earlier
MAX_INTEGER = 2**63 - 1  # what PostgreSQL's bigint and every JSON reader hold exactly
FUTURE_TOLERANCE = timedelta(minutes=5)  # clock skew between a vendor and us
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
# The inbox columns the notification lands in (hub.db.models.inbox.InboxEvent).
MAX_EVENT_ID = 300
MAX_EVENT_TYPE = 100
MAX_EXTERNAL_ID = 255  # customers.external_id
_BOM = b"\xef\xbb\xbf"


def bounded_json(body: bytes, vendor: str) -> Any:
    """A vendor's JSON body, refused (MalformedBody) when it is not JSON or not safe to keep."""
    if len(body) > MAX_JSON_BYTES:
        raise MalformedBody(f"{vendor} webhook body is larger than {MAX_JSON_BYTES} bytes")
    try:
        # orjson refuses NaN/Infinity, lone surrogates, numbers beyond a double and nesting past
        # 1,024 levels, all without recursion in Python.
        document = orjson.loads(body[len(_BOM):] if body.startswith(_BOM) else body)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"{vendor} webhook body is not valid JSON") from exc
    check_payload(document, vendor)
    return document


def check_payload(document: Any, vendor: str) -> None:
    """Depth, NUL characters, non-finite and oversized numbers, anywhere in the document."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            if depth > MAX_DEPTH:
                raise MalformedBody(f"{vendor} payload is nested deeper than {MAX_DEPTH} levels")
            for key, item in value.items():
                _check_text(key, vendor)
                pending.append((item, depth + 1))
        elif isinstance(value, list):
            if depth > MAX_DEPTH:
                raise MalformedBody(f"{vendor} payload is nested deeper than {MAX_DEPTH} levels")
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            _check_text(value, vendor)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not -MAX_INTEGER - 1 <= value <= MAX_INTEGER:
                raise MalformedBody(f"{vendor} payload holds an integer beyond 64 bits")
        elif isinstance(value, float):
            if not math.isfinite(value) or abs(value) > MAX_INTEGER:
                raise MalformedBody(f"{vendor} payload holds a number beyond 64 bits, NaN or Infinity")
        else:
            raise MalformedBody(f"{vendor} payload holds a {type(value).__name__}")


def _check_text(text: Any, vendor: str) -> None:
    if not isinstance(text, str):
        raise MalformedBody(f"{vendor} payload has a key that is not text")
    if "\x00" in text:
        raise MalformedBody(f"{vendor} payload contains a NUL character")


def check_time(moment: datetime | None, vendor: str, what: str) -> datetime | None:
    """A vendor's timestamp, refused when it lies in the future (it would win every later change)."""
    if moment is None:
        return None
    if moment > datetime.now(UTC) + FUTURE_TOLERANCE:
        raise MalformedBody(f"{vendor} {what} lies in the future")
    if moment < EARLIEST:
        raise MalformedBody(f"{vendor} {what} lies before 1970")
    return moment


def unix_time(value: Any, vendor: str, what: str, *, millis: bool = False) -> datetime | None:
    """Seconds (or milliseconds) since the epoch as an aware datetime; None when not an integer."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    seconds, remainder = divmod(value, 1000) if millis else (value, 0)
    if not EARLIEST.timestamp() <= seconds <= (datetime.now(UTC) + FUTURE_TOLERANCE).timestamp():
        raise MalformedBody(f"{vendor} {what} is out of range")
    # Integer arithmetic: a float division could turn .456 into .455999.
    return datetime.fromtimestamp(seconds, tz=UTC) + timedelta(milliseconds=remainder)


def check_identifier(value: Any, vendor: str, what: str, max_length: int = MAX_EXTERNAL_ID) -> str:
    """An id as it will be stored: non-empty text that fits its column, without control characters."""
    if not isinstance(value, str) or not value.strip():
        raise MalformedBody(f"{vendor} {what} must be non-empty text")
    if len(value) > max_length:
        raise MalformedBody(f"{vendor} {what} is longer than {max_length} characters")
    if any(unicodedata.category(c) == "Cc" for c in value):  # C0, DEL and C1
        raise MalformedBody(f"{vendor} {what} contains control characters")
    return value
