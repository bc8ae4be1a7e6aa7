"""Field paths recipes read: the normalised event (from its JSON Schema) and the customer snapshot."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from hub.recipes.model import Event, Getter, Snapshot, did_you_mean

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"
SNAPSHOT = "snapshot"
# The customer's current state as the assignment service hands it to the engine.
SNAPSHOT_FIELDS = ("external_id", "dunningPlanId", "workflow_name", "account_managers")
SNAPSHOT_OPEN = ("custom_fields",)


@dataclass(frozen=True)
class FieldCatalog:
    """Which dotted paths exist; `open_prefixes` end in objects that take any key."""

    paths: frozenset[str]
    open_prefixes: tuple[str, ...]
    enums: Mapping[str, tuple[Any, ...]]

    def knows(self, path: str) -> bool:
        if path in self.paths:
            return True
        return any(path.startswith(prefix + ".") and len(path) > len(prefix) + 1
                   for prefix in self.open_prefixes)

    def suggest(self, path: str) -> str | None:
        return did_you_mean(path, sorted(self.paths))

    def enum_for(self, path: str) -> tuple[Any, ...] | None:
        return self.enums.get(path)


@lru_cache(maxsize=4)
def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema from schemas/, read once (call `load_schema.cache_clear()` to reset)."""
    return json.loads((SCHEMAS_DIR / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def default_fields() -> FieldCatalog:
    """Paths from schemas/event.schema.json plus the snapshot shape."""
    paths: set[str] = set()
    open_prefixes: list[str] = []
    enums: dict[str, tuple[Any, ...]] = {}
    _walk_schema(load_schema("event.schema.json"), "", paths, open_prefixes, enums)
    paths.add(SNAPSHOT)
    paths.update(f"{SNAPSHOT}.{name}" for name in SNAPSHOT_FIELDS + SNAPSHOT_OPEN)
    open_prefixes.extend(f"{SNAPSHOT}.{name}" for name in SNAPSHOT_OPEN)
    return FieldCatalog(frozenset(paths), tuple(open_prefixes), enums)


def _walk_schema(schema: Mapping[str, Any], prefix: str, paths: set[str],
                 open_prefixes: list[str], enums: dict[str, tuple[Any, ...]]) -> None:
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        paths.add(path)
        if "enum" in sub:
            enums[path] = tuple(sub["enum"])
        if isinstance(sub.get("additionalProperties"), dict):
            open_prefixes.append(path)
        _walk_schema(sub, path + ".", paths, open_prefixes, enums)


def compile_getter(path: str) -> Getter:
    """A fast reader for a dotted path; a missing step anywhere reads as None."""
    parts = tuple(path.split("."))
    if parts[0] == SNAPSHOT:
        return _snapshot_getter(parts[1:])
    return _event_getter(parts)


def _event_getter(keys: tuple[str, ...]) -> Getter:
    # Specialised readers for the usual depths: this runs for every condition of every event.
    if len(keys) == 1:
        return _top_getter(keys[0])
    if len(keys) == 2:
        return _nested_getter(*keys)
    if len(keys) == 3:
        return _deeper_getter(*keys)

    def get_deep(event: Event, snapshot: Snapshot) -> Any:
        return dig(event, keys)

    return get_deep


def _top_getter(key: str) -> Getter:
    def get_top(event: Event, snapshot: Snapshot) -> Any:
        return event.get(key)

    return get_top


def _nested_getter(outer: str, inner: str) -> Getter:
    def get_nested(event: Event, snapshot: Snapshot) -> Any:
        value = event.get(outer)
        if value.__class__ is dict or isinstance(value, Mapping):
            return value.get(inner)
        return None

    return get_nested


def _deeper_getter(first: str, second: str, third: str) -> Getter:
    def get_deeper(event: Event, snapshot: Snapshot) -> Any:
        value = event.get(first)
        if value.__class__ is dict or isinstance(value, Mapping):
            value = value.get(second)
            if value.__class__ is dict or isinstance(value, Mapping):
                return value.get(third)
        return None

    return get_deeper


def _snapshot_getter(keys: tuple[str, ...]) -> Getter:
    def get_snapshot(event: Event, snapshot: Snapshot) -> Any:
        if snapshot is None:
            return None
        return dig(snapshot, keys) if keys else snapshot

    return get_snapshot


def dig(data: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if data.__class__ is not dict and not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def changed_getter(path: str) -> Getter:
    """Whether `path` (or something under it) is listed in the event's `changes`."""
    below = path + "."

    def is_changed(event: Event, snapshot: Snapshot) -> bool:
        changes = event.get("changes") or ()
        return any(c == path or (isinstance(c, str) and c.startswith(below)) for c in changes)

    return is_changed
