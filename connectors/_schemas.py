"""The JSON Schemas of schemas/: loading them, and checking normalised events against theirs."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import fastjsonschema
from fastjsonschema import JsonSchemaValueException

from hub.errors import ConfigError, InvalidInput

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"


def validate_event(event: dict[str, Any], connector: str | None = None) -> None:
    """Raise InvalidInput listing every way the event breaks the schema.

    The schema names the built-in connectors; ``connector`` adds a plugin's own name, so the
    events a third-party connector builds for itself are valid too. Every event a worker
    processes passes here, so a compiled check (fastjsonschema, the same schema and jsonschema's
    own date-time test) answers first: jsonschema took 250 us an event, more than half of a
    batch's work. Only an event it refuses goes through jsonschema, for the full list of problems,
    and jsonschema's verdict stands.
    """
    fast, full = _event_validators(connector)
    try:
        fast(event)
        return
    except JsonSchemaValueException:
        pass
    problems = [
        f"{'.'.join(str(p) for p in error.absolute_path) or '<event>'}: {error.message}"
        for error in full.iter_errors(event)
    ]
    if problems:
        raise InvalidInput("normalised event does not match the event schema", details=problems)


@cache
def load_schema(relative_path: str) -> dict[str, Any]:
    """A JSON Schema from schemas/, read once on first use (never at import)."""
    path = SCHEMAS_DIR / relative_path
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"schema file not found: {relative_path}") from exc


@lru_cache(maxsize=16)
def _event_validators(connector: str | None = None) -> tuple[Callable[[Any], Any], Any]:
    """(compiled check, jsonschema validator) of the event schema, for ``connector``'s events."""
    from jsonschema import Draft202012Validator  # imported on first use: startup stays cheap

    schema = load_schema("event.schema.json")
    names = schema["properties"]["connector"]["enum"]
    if connector is not None and connector not in names:
        connector_property = {**schema["properties"]["connector"], "enum": [*names, connector]}
        schema = {**schema, "properties": {**schema["properties"], "connector": connector_property}}
    checker = Draft202012Validator.FORMAT_CHECKER
    fast = fastjsonschema.compile(
        schema, formats={"date-time": lambda value: checker.conforms(value, "date-time")})
    return fast, Draft202012Validator(schema, format_checker=checker)


