"""Strict validation of our own API payloads against schemas/api (all problems at once)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from hub.errors import ValidationFailed

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@cache
def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    return Draft202012Validator(schema, format_checker=FormatChecker())


def validate(name: str, payload: Any) -> dict[str, Any]:
    errors = sorted(validator(name).iter_errors(payload), key=lambda e: list(e.absolute_path))
    if errors:
        details = [
            {"path": "/".join(str(p) for p in e.absolute_path) or "(body)", "message": e.message}
            for e in errors
        ]
        raise ValidationFailed("the request body is not valid", details=details)
    return payload


def parse_time(value: str, field: str = "occurredAt") -> datetime:
    """RFC 3339 with a zone; 'Z' accepted."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationFailed(f"{field} is not an RFC 3339 time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise ValidationFailed(f"{field} must carry a time zone: {value!r}")
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00:00+14:00 has no UTC form
        raise ValidationFailed(f"{field} is out of range: {value!r}") from exc
