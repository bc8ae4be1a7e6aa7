"""Actions: a registry of small builders, one per action name, each giving a compiled Action."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from hub.recipes.fields import compile_getter
from hub.recipes.model import NOTHING, Action, Event, Getter, Snapshot

Builder = Callable[[Any, str, int | None], Action]


def _returning(value: Any) -> Getter:
    """For immutable literals (strings, numbers, null)."""

    def produce(event: Event, snapshot: Snapshot) -> Any:
        return value

    return produce


def _building(factory: Callable[[], Any]) -> Getter:
    """For dicts and lists: a fresh copy per run, so editing a plan cannot change the recipe."""

    def produce(event: Event, snapshot: Snapshot) -> Any:
        return factory()

    return produce


def _workflow_ref(spec: Any) -> dict[str, Any]:
    if isinstance(spec, str):
        return {"name": spec}
    if "dunningPlanId" in spec:
        return {"id": spec["dunningPlanId"]}
    return {"name": spec["name"]}


def assign_workflow(spec: Any, path: str, line: int | None) -> Action:
    ref = _workflow_ref(spec)
    ((kind, target),) = ref.items()
    produce = _building(lambda: {kind: target})
    return Action("assign_workflow", "workflow", "set", ref, None, path, line, produce)


def _emails_from(getter: Getter) -> Getter:
    """Read emails from an event field: one address, a comma-separated string, or a list."""

    def produce(event: Event, snapshot: Snapshot) -> Any:
        raw = getter(event, snapshot)
        items = raw.split(",") if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple):
            return NOTHING
        emails = [item.strip().lower() for item in items if isinstance(item, str) and item.strip()]
        return emails or NOTHING

    return produce


def assign_account_managers(spec: Any, path: str, line: int | None) -> Action:
    if isinstance(spec, Mapping):
        source = spec["from_field"]
        produce = _emails_from(compile_getter(source))
        return Action("assign_account_managers", "account_managers", "set", None, source,
                      path, line, produce)
    emails = tuple(e.strip().lower() for e in ([spec] if isinstance(spec, str) else spec))
    return Action("assign_account_managers", "account_managers", "set", emails, None, path, line,
                  _building(lambda: list(emails)))


def _one_manager(name: str, op: str) -> Builder:
    def build(spec: Any, path: str, line: int | None) -> Action:
        if isinstance(spec, Mapping):
            source = spec["from_field"]
            many = _emails_from(compile_getter(source))

            def produce(event: Event, snapshot: Snapshot) -> Any:
                emails = many(event, snapshot)
                return NOTHING if emails is NOTHING else emails[0]

            return Action(name, "account_managers", op, None, source, path, line, produce)
        email = spec.strip().lower()
        return Action(name, "account_managers", op, email, None, path, line,
                      _returning(email))

    return build


def set_custom_field(spec: Any, path: str, line: int | None) -> Action:
    field = f"custom_fields.{spec['key']}"
    if "from_field" in spec:
        source = spec["from_field"]
        getter = compile_getter(source)

        def produce(event: Event, snapshot: Snapshot) -> Any:
            value = getter(event, snapshot)
            return value if isinstance(value, str | int | float | bool) else NOTHING

        return Action("set_custom_field", field, "set", None, source, path, line, produce)
    value = spec.get("value")  # a literal null clears the field
    return Action("set_custom_field", field, "set", value, None, path, line,
                  _returning(value))


def stop(spec: Any, path: str, line: int | None) -> Action:
    scope = "all" if spec == "all" else "recipe"
    return Action("stop", "", "stop", scope, None, path, line, _returning(scope))


ACTIONS: Mapping[str, Builder] = MappingProxyType({
    "assign_workflow": assign_workflow,
    "assign_account_managers": assign_account_managers,
    "add_account_manager": _one_manager("add_account_manager", "add"),
    "remove_account_manager": _one_manager("remove_account_manager", "remove"),
    "set_custom_field": set_custom_field,
    "stop": stop,
})
