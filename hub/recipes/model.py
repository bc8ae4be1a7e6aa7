"""The recipe engine's data: recipes, compiled steps and conditions, planned updates, problems."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, NamedTuple, TypeAlias

from hub.errors import ValidationFailed

ERROR = "error"
WARNING = "warning"

Event: TypeAlias = Mapping[str, Any]
Snapshot: TypeAlias = Mapping[str, Any] | None
TraceEntry: TypeAlias = dict[str, Any]
Getter: TypeAlias = Callable[[Event, Snapshot], Any]
ConditionTest: TypeAlias = Callable[[Event, Snapshot, list[TraceEntry]], bool]


class _Nothing:
    """Type of NOTHING: an action read an empty event field and has nothing to write."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOTHING"


NOTHING = _Nothing()


# --- problems -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or suspicious) in a recipe, located by file and line."""

    file: str
    line: int | None
    message: str
    suggestion: str | None = None
    severity: str = ERROR

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "severity": self.severity,
            "message": self.message,
            "suggestion": self.suggestion,
        }

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        hint = f" (did you mean {self.suggestion!r}?)" if self.suggestion else ""
        return f"{where}: {self.severity}: {self.message}{hint}"


class RecipeLoadError(ValidationFailed):
    """A recipe (or a set of recipes) was refused; `problems` says where and why."""

    code = "recipe_invalid"

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        errors = [p for p in self.problems if p.is_error]
        first = str(errors[0]) if errors else "recipe refused"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more, details=[p.to_dict() for p in self.problems])


class ProblemList:
    """Collects the problems of one file; every check appends here instead of raising."""

    def __init__(self, file: str):
        self.file = file
        self.items: list[Problem] = []

    def error(self, line: int | None, message: str, suggestion: str | None = None) -> None:
        self.items.append(Problem(self.file, line, message, suggestion, ERROR))

    def warning(self, line: int | None, message: str, suggestion: str | None = None) -> None:
        self.items.append(Problem(self.file, line, message, suggestion, WARNING))

    def add(self, severity: str, line: int | None, message: str, suggestion: str | None = None):
        self.items.append(Problem(self.file, line, message, suggestion, severity))

    @property
    def has_errors(self) -> bool:
        return any(p.is_error for p in self.items)


def did_you_mean(word: Any, candidates: Iterable[Any]) -> str | None:
    """The closest candidate to a misspelt word, or None."""
    if not isinstance(word, str):
        return None
    names = [c for c in candidates if isinstance(c, str)]
    found = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return found[0] if found else None


# --- conditions, actions and steps (compiled at load time) ---------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Condition:
    """A compiled condition: `test(event, snapshot, trace)` evaluates it and records the trace."""

    operator: str  # an operator name, or all / any / not
    field: str | None
    expected: Any
    children: tuple[Condition, ...]
    path: str
    line: int | None
    test: ConditionTest = dataclass_field(repr=False)


@dataclass(frozen=True, slots=True, eq=False)
class Action:
    """A compiled action: `produce(event, snapshot)` gives the value to write, or NOTHING."""

    name: str  # assign_workflow, assign_account_managers, ..., stop
    field: str  # workflow | account_managers | custom_fields.<key> | "" for stop
    op: str  # set | add | remove | stop
    value: Any  # the literal value as written (None when read from an event field)
    from_field: str | None
    path: str
    line: int | None
    produce: Getter = dataclass_field(repr=False)


@dataclass(frozen=True, slots=True, eq=False)
class IfStep:
    condition: Condition
    then: tuple[Step, ...]
    otherwise: tuple[Step, ...]
    path: str
    line: int | None


@dataclass(frozen=True, slots=True, eq=False)
class Case:
    values: tuple[str, ...]  # the case's values, as text (YAML keys are text)
    label: str
    body: tuple[Step, ...]
    path: str
    line: int | None


@dataclass(frozen=True, slots=True, eq=False)
class SwitchStep:
    field: str
    cases: tuple[Case, ...]
    default: tuple[Step, ...] | None
    path: str
    line: int | None
    getter: Getter = dataclass_field(repr=False)
    lookup: Mapping[str, Case] = dataclass_field(repr=False)


Step: TypeAlias = IfStep | SwitchStep | Action


def case_key(value: Any) -> str | None:
    """The text a switch compares: YAML keys are text, so values are matched by their text."""
    if value.__class__ is str:
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


@dataclass(frozen=True, slots=True)
class Trigger:
    connector: str | None
    connection: str | None
    events: tuple[str, ...]
    event_set: frozenset[str] = dataclass_field(repr=False)
    line: int | None = None  # of the connector / connection key

    def matches(self, event: Event) -> bool:
        if event.get("type") not in self.event_set:
            return False
        if self.connector is not None:
            return event.get("connector") == self.connector
        return event.get("connection") == self.connection

    def to_dict(self) -> dict[str, Any]:
        key = "connector" if self.connector is not None else "connection"
        return {key: self.connector or self.connection, "events": list(self.events)}


@dataclass(frozen=True, slots=True)
class RecipeTest:
    """A test case carried by a recipe: given an event and a snapshot, expect these updates."""

    name: str
    event: Mapping[str, Any]  # partial event as written; defaults are filled when it runs
    snapshot: Mapping[str, Any] | None
    expect: Mapping[str, Any]  # updates / matched / stopped, each optional
    line: int | None


@dataclass(frozen=True, slots=True, eq=False)
class Recipe:
    name: str
    description: str
    trigger: Trigger
    when: Condition | None
    steps: tuple[Step, ...]
    source: str  # effective source of every update this recipe plans
    default_source: str  # what its trigger implies; `source` may only be lower
    order: int
    file: str
    content_hash: str  # sha256 of the text: the key the lead stores versions under
    tests: tuple[RecipeTest, ...] = ()
    text: str = dataclass_field(default="", repr=False)
    key_lines: Mapping[str, int] = dataclass_field(default_factory=dict, repr=False)

    @property
    def sort_key(self) -> tuple[int, str]:
        return (self.order, self.name)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "trigger": self.trigger.to_dict(),
            "source": self.source,
            "order": self.order,
            "file": self.file,
            "contentHash": self.content_hash,
            "tests": len(self.tests),
        }


# --- results --------------------------------------------------------------------------------
# Built on every evaluation, so they are NamedTuples: as immutable as a frozen dataclass and
# about three times cheaper to build (a frozen dataclass sets each field via object.__setattr__).


class PlannedUpdate(NamedTuple):
    """One field write the assignment service should attempt."""

    field: str  # workflow | account_managers | custom_fields.<key>
    op: str  # set | add | remove
    value: Any  # workflow: {"name"|"id": ...}; managers: [emails] or one email; custom: scalar
    source: str
    occurred_at: str | None
    recipe: str
    step: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "op": self.op,
            "value": jsonable(self.value),
            "source": self.source,
            "occurredAt": self.occurred_at,
            "recipe": self.recipe,
            "step": self.step,
        }


class Evaluation(NamedTuple):
    """What running one recipe (or an ordered set) on one event gives: the plan and its trace."""

    matched: bool
    plan: tuple[PlannedUpdate, ...]
    trace: tuple[TraceEntry, ...]
    recipes: tuple[str, ...]  # recipes that matched and ran, in order
    stopped: str | None = None  # "recipe" or "all" when a stop action ran

    def to_dict(self) -> dict[str, Any]:
        return {
            "matched": self.matched,
            "recipes": list(self.recipes),
            "stopped": self.stopped,
            "plan": [update.to_dict() for update in self.plan],
            "trace": [jsonable(entry) for entry in self.trace],
        }


def jsonable(value: Any) -> Any:
    """A copy of value made of dicts, lists and scalars only (tuples become lists)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [jsonable(v) for v in value]
    return value


def iter_steps(steps: tuple[Step, ...]):
    """Every step, depth first, including those nested in branches and cases."""
    for step in steps:
        yield step
        if isinstance(step, IfStep):
            yield from iter_steps(step.then)
            yield from iter_steps(step.otherwise)
        elif isinstance(step, SwitchStep):
            for case in step.cases:
                yield from iter_steps(case.body)
            yield from iter_steps(step.default or ())
