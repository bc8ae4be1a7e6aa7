"""Builds a compiled Recipe from a schema-valid YAML document (conditions and actions as closures)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from connectors import registry
from hub.domain.sources import Source
from hub.errors import ConfigError
from hub.recipes.actions import ACTIONS
from hub.recipes.conditions import compile_condition
from hub.recipes.fields import compile_getter, default_fields
from hub.recipes.model import (
    Case,
    IfStep,
    ProblemList,
    Recipe,
    RecipeTest,
    Step,
    SwitchStep,
    Trigger,
    case_key,
)
from hub.recipes.yaml_loader import SeqKey, YamlMap, YamlSeq, to_plain

DEFAULT_ORDER = 100


def normalise_cases(node: Any, problems: ProblemList) -> None:
    """Rewrite every switch's mapping-form `cases` into the list form the schema validates.

    `{card: ..., [sepa_debit, ach_debit]: ...}` becomes `[{values: card, then: ...},
    {values: [sepa_debit, ach_debit], then: ...}]`, keeping each key's line.
    """
    if isinstance(node, YamlMap):
        for key in node:
            if isinstance(key, SeqKey):
                problems.error(node.line_of(key), "a list can be a key only in a switch's cases")
        if "switch" in node and isinstance(node.get("cases"), YamlMap):
            node["cases"] = _cases_as_list(node["cases"])
        children: Any = node.values()
    elif isinstance(node, YamlSeq):
        children = node
    else:
        return
    for child in children:
        normalise_cases(child, problems)


def _cases_as_list(cases: YamlMap) -> YamlSeq:
    entries, lines = [], []
    for key, body in cases.items():
        line = cases.line_of(key)
        values = YamlSeq(line, key, [line] * len(key)) if isinstance(key, SeqKey) else key
        entries.append(YamlMap(line, {"values": values, "then": body},
                               {"values": line, "then": line}))
        lines.append(line)
    return YamlSeq(cases.line, entries, lines)


def build_recipe(doc: YamlMap, *, file: str, text: str, problems: ProblemList,
                 connections: Mapping[str, str] | None = None) -> Recipe:
    """The compiled recipe; problems that compiling finds (bad regex, ...) go to `problems`."""
    trigger = _trigger(doc["trigger"])
    default = default_source(trigger, connections)
    when = compile_condition(doc["when"], "when", problems) if "when" in doc else None
    return Recipe(
        name=doc["name"],
        description=doc.get("description", ""),
        trigger=trigger,
        when=when,
        steps=_steps(doc["steps"], "steps", problems),
        source=doc.get("source", default),
        default_source=default,
        order=doc.get("order", DEFAULT_ORDER),
        file=file,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        tests=tuple(_test_case(spec) for spec in doc.get("tests", ())),
        text=text,
        key_lines=MappingProxyType(dict(doc.key_lines)),
    )


def default_source(trigger: Trigger, connections: Mapping[str, str] | None = None) -> str:
    """The `default_source` of the connector class that triggers the recipe, else `api`.

    A connection's connector comes from `connections` (name -> connector); without it, the
    default connections are named after their connector (DESIGN.md).
    """
    connector = trigger.connector
    if connector is None and trigger.connection is not None:
        known = connections or {}
        connector = known.get(trigger.connection, trigger.connection)
    return connector_source(connector) if connector is not None else str(Source.API)


def connector_source(connector: str) -> str:
    """A connector's default source; `api` when it cannot be loaded: a misspelt name is
    reported by validation, a missing SDK when its connection is used."""
    try:
        return str(registry.get_connector_class(connector).default_source)  # text, as YAML gives it
    except ConfigError:
        return str(Source.API)


def _trigger(spec: YamlMap) -> Trigger:
    events = tuple(spec["events"])
    line = spec.line_of("connector" if "connector" in spec else "connection")
    return Trigger(spec.get("connector"), spec.get("connection"), events, frozenset(events), line)


def _steps(items: YamlSeq, path: str, problems: ProblemList) -> tuple[Step, ...]:
    return tuple(_step(item, f"{path}[{index}]", problems) for index, item in enumerate(items))


def _body(value: Any, path: str, problems: ProblemList) -> tuple[Step, ...]:
    if isinstance(value, YamlSeq):
        return _steps(value, path, problems)
    return (_step(value, path, problems),)


def _step(spec: YamlMap, path: str, problems: ProblemList) -> Step:
    if "if" in spec:
        condition = compile_condition(spec["if"], f"{path}.if", problems)
        then = _body(spec["then"], f"{path}.then", problems)
        otherwise = _body(spec["else"], f"{path}.else", problems) if "else" in spec else ()
        return IfStep(condition, then, otherwise, path, spec.line)
    if "switch" in spec:
        return _switch(spec, path, problems)
    (name,) = spec.keys()
    return ACTIONS[name](spec[name], path, spec.line_of(name))


def _switch(spec: YamlMap, path: str, problems: ProblemList) -> SwitchStep:
    field = spec["switch"]
    cases: list[Case] = []
    lookup: dict[str, Case] = {}
    for entry in spec["cases"]:
        case = _case(entry, path, problems)
        for value in case.values:
            if value in lookup:
                problems.error(case.line, f"case value {value!r} appears twice in this switch"
                                          f" (first at line {lookup[value].line})")
            else:
                lookup[value] = case
        cases.append(case)
    default = _body(spec["default"], f"{path}.default", problems) if "default" in spec else None
    return SwitchStep(field, tuple(cases), default, path, spec.line, compile_getter(field),
                      MappingProxyType(lookup))


def _case(entry: YamlMap, path: str, problems: ProblemList) -> Case:
    raw = entry["values"]
    values = tuple(case_key(v) or "" for v in (raw if isinstance(raw, list) else [raw]))
    label = values[0] if len(values) == 1 else "[" + ", ".join(values) + "]"
    case_path = f"{path}.cases.{label}"
    body = _body(entry["then"], case_path, problems)
    return Case(values, label, body, case_path, entry.line)


def _test_case(spec: YamlMap) -> RecipeTest:
    snapshot = spec.get("snapshot")
    return RecipeTest(
        name=spec["name"],
        event=to_plain(spec.get("event") or {}),
        snapshot=to_plain(snapshot) if snapshot is not None else None,
        expect=to_plain(spec["expect"]),
        line=spec.line,
    )


def known_connectors() -> tuple[str, ...]:
    """Built-in connector names, from the event schema's enum."""
    return tuple(default_fields().enum_for("connector") or ())
