"""Condition operators (a registry of small predicate builders) and their compilation to closures."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from hub.recipes.fields import changed_getter, compile_getter
from hub.recipes.model import Condition, ConditionTest, Event, ProblemList, Snapshot, TraceEntry
from hub.recipes.yaml_loader import YamlMap, YamlSeq

Predicate = Callable[[Any], bool]
MAX_PATTERN = 500


class OperandError(ValueError):
    """An operator's operand cannot be used (bad regex, ...)."""


def _same(expected: Any) -> Predicate:
    """Equality that keeps types apart: true is not 1, "3" is not 3."""
    if expected is None or isinstance(expected, bool):
        return lambda actual: actual is expected
    if isinstance(expected, str):
        return lambda actual: actual == expected
    return lambda actual: (isinstance(actual, int | float) and not isinstance(actual, bool)
                           and actual == expected)


def _not_equals(expected: Any) -> Predicate:
    same = _same(expected)
    return lambda actual: not same(actual)


def _in(expected: Any) -> Predicate:
    values = tuple(expected)
    if all(isinstance(v, str) for v in values):
        words = frozenset(values)
        return lambda actual: isinstance(actual, str) and actual in words
    checks = tuple(_same(v) for v in values)
    return lambda actual: any(check(actual) for check in checks)


def _not_in(expected: Any) -> Predicate:
    inside = _in(expected)
    return lambda actual: not inside(actual)


def _exists(expected: Any) -> Predicate:
    if expected:
        return lambda actual: actual is not None
    return lambda actual: actual is None


def _missing(expected: Any) -> Predicate:
    return _exists(not expected)


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any], Predicate]:
    def build(expected: Any) -> Predicate:
        if isinstance(expected, str):
            return lambda actual: isinstance(actual, str) and compare(actual, expected)
        return lambda actual: (isinstance(actual, int | float) and not isinstance(actual, bool)
                               and compare(actual, expected))

    return build


def _matches(expected: Any) -> Predicate:
    if len(expected) > MAX_PATTERN:
        raise OperandError(f"regular expression longer than {MAX_PATTERN} characters")
    try:
        search = re.compile(expected).search
    except re.error as exc:
        raise OperandError(f"invalid regular expression {expected!r}: {exc}") from exc
    return lambda actual: isinstance(actual, str) and search(actual) is not None


def _contains(expected: Any) -> Predicate:
    same = _same(expected)

    def contains(actual: Any) -> bool:
        if isinstance(actual, str):
            return isinstance(expected, str) and expected in actual
        if isinstance(actual, list | tuple):
            return any(same(item) for item in actual)
        return False

    return contains


def _changed(expected: Any) -> Predicate:
    return lambda actual: actual is bool(expected)


OPERATORS: Mapping[str, Callable[[Any], Predicate]] = MappingProxyType({
    "equals": _same,
    "not_equals": _not_equals,
    "in": _in,
    "not_in": _not_in,
    "exists": _exists,
    "missing": _missing,
    "gt": _ordered(lambda a, b: a > b),
    "gte": _ordered(lambda a, b: a >= b),
    "lt": _ordered(lambda a, b: a < b),
    "lte": _ordered(lambda a, b: a <= b),
    "matches": _matches,
    "contains": _contains,
    "changed": _changed,
})
COMBINATORS = ("all", "any", "not")


def compile_condition(spec: YamlMap, path: str, problems: ProblemList) -> Condition:
    """Compile a schema-valid condition mapping into a Condition whose `test` is a closure."""
    for combinator in COMBINATORS:
        if combinator in spec:
            return _compile_combinator(combinator, spec, path, problems)
    return _compile_leaf(spec, path, problems)


def _compile_leaf(spec: YamlMap, path: str, problems: ProblemList) -> Condition:
    field = spec["field"]
    operator = next(key for key in spec if key != "field")
    line = spec.line_of(operator)
    expected = _frozen(spec[operator])
    build = OPERATORS.get(operator)
    if build is None:  # the schema refuses these first; kept so a looser schema cannot crash us
        problems.error(line, f"unknown operator {operator!r}")
        return _constant(False, operator, field, expected, path, line)
    try:
        predicate = build(expected)
    except OperandError as exc:
        problems.error(line, str(exc))
        return _constant(False, operator, field, expected, path, line)
    getter = changed_getter(field) if operator == "changed" else compile_getter(field)
    test = _leaf_test(path, field, operator, expected, getter, predicate)
    return Condition(operator, field, expected, (), path, line, test)


def _leaf_test(path: str, field: str, operator: str, expected: Any,
               getter: Callable[[Event, Snapshot], Any], predicate: Predicate) -> ConditionTest:
    def test(event: Event, snapshot: Snapshot, trace: list[TraceEntry]) -> bool:
        actual = getter(event, snapshot)
        result = predicate(actual)
        trace.append({"kind": "condition", "path": path, "field": field, "operator": operator,
                      "expected": expected, "actual": actual, "result": result})
        return result

    return test


def _compile_combinator(name: str, spec: YamlMap, path: str, problems: ProblemList) -> Condition:
    line = spec.line_of(name)
    operand = spec[name]
    children: tuple[Condition, ...]
    if name == "not":
        children = (compile_condition(operand, f"{path}.not", problems),)
    else:
        children = tuple(
            compile_condition(item, f"{path}.{name}[{index}]", problems)
            for index, item in enumerate(operand)
        )
    tests = tuple(child.test for child in children)
    test = _COMBINE[name](path, tests)
    return Condition(name, None, None, children, path, line, test)


def _all(path: str, tests: tuple[ConditionTest, ...]) -> ConditionTest:
    def test(event: Event, snapshot: Snapshot, trace: list[TraceEntry]) -> bool:
        slot = len(trace)
        trace.append({})  # the combinator's own entry goes before its children's
        result = all(child(event, snapshot, trace) for child in tests)
        trace[slot] = {"kind": "condition", "path": path, "operator": "all", "result": result}
        return result

    return test


def _any(path: str, tests: tuple[ConditionTest, ...]) -> ConditionTest:
    def test(event: Event, snapshot: Snapshot, trace: list[TraceEntry]) -> bool:
        slot = len(trace)
        trace.append({})
        result = any(child(event, snapshot, trace) for child in tests)
        trace[slot] = {"kind": "condition", "path": path, "operator": "any", "result": result}
        return result

    return test


def _not(path: str, tests: tuple[ConditionTest, ...]) -> ConditionTest:
    (inner,) = tests

    def test(event: Event, snapshot: Snapshot, trace: list[TraceEntry]) -> bool:
        slot = len(trace)
        trace.append({})
        result = not inner(event, snapshot, trace)
        trace[slot] = {"kind": "condition", "path": path, "operator": "not", "result": result}
        return result

    return test


_COMBINE: Mapping[str, Callable[[str, tuple[ConditionTest, ...]], ConditionTest]] = (
    MappingProxyType({"all": _all, "any": _any, "not": _not})
)


def _constant(result: bool, operator: str, field: str, expected: Any, path: str,
              line: int | None) -> Condition:
    def test(event: Event, snapshot: Snapshot, trace: list[TraceEntry]) -> bool:
        return result

    return Condition(operator, field, expected, (), path, line, test)


def _frozen(value: Any) -> Any:
    """Operands as immutable plain values (lists become tuples), so traces can share them."""
    if isinstance(value, YamlSeq | list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


def iter_conditions(condition: Condition | None):
    """The condition and every condition nested in it, depth first."""
    if condition is None:
        return
    yield condition
    for child in condition.children:
        yield from iter_conditions(child)
