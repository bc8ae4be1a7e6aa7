"""Recipes' own test cases: fill in each given event, evaluate, compare with the expected updates."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator

from hub.recipes.engine import evaluate
from hub.recipes.fields import load_schema
from hub.recipes.model import Evaluation, ProblemList, Recipe, RecipeTest, jsonable

TEST_OCCURRED_AT = "2026-01-01T00:00:00Z"
TEST_EXTERNAL_ID = "cus_test"
_UPDATE_KEYS = ("field", "op", "value")


@dataclass(frozen=True)
class RecipeTestResult:
    recipe: str
    name: str
    file: str
    line: int | None
    passed: bool
    diff: str  # unified diff expected -> actual; empty when the case passes
    evaluation: Evaluation

    def to_dict(self) -> dict[str, Any]:
        return {"recipe": self.recipe, "name": self.name, "file": self.file, "line": self.line,
                "passed": self.passed, "diff": self.diff,
                "evaluation": self.evaluation.to_dict()}

    def __str__(self) -> str:
        head = f"{'PASS' if self.passed else 'FAIL'} {self.recipe}: {self.name}"
        if self.passed:
            return head
        return f"{head} ({self.file}:{self.line})\n{self.diff}"


def build_test_event(recipe: Recipe, test: RecipeTest, index: int = 0) -> dict[str, Any]:
    """The full normalised event of a test case: what it gives, over defaults from the trigger.

    Defaults: the trigger's connector (or connection) and first event type, occurred_at
    2026-01-01T00:00:00Z, customer external_id cus_test, no changes.
    """
    trigger = recipe.trigger
    given = dict(test.event)
    connector = given.get("connector") or trigger.connector or trigger.connection
    event: dict[str, Any] = {
        "id": f"test-{recipe.name}-{index}",
        "connection": trigger.connection or connector,
        "connector": connector,
        "type": trigger.events[0],
        "vendor_event_id": f"test-{index}",
        "occurred_at": TEST_OCCURRED_AT,
        "changes": [],
        "raw_ref": "test",
    }
    customer = {"external_id": TEST_EXTERNAL_ID, **dict(given.pop("customer", None) or {})}
    event.update(given)
    event["customer"] = customer
    return event


@lru_cache(maxsize=1)
def _event_validator() -> Draft202012Validator:
    return Draft202012Validator(load_schema("event.schema.json"))


def check_test_events(recipe: Recipe, problems: ProblemList) -> None:
    """Every test case's filled-in event must be a valid normalised event."""
    for index, test in enumerate(recipe.tests):
        event = build_test_event(recipe, test, index)
        for error in _event_validator().iter_errors(event):
            where = ".".join(str(p) for p in error.absolute_path) or "event"
            problems.error(test.line, f"test {test.name!r}: event {where}: {error.message}")


def run_recipe_tests(recipe: Recipe) -> list[RecipeTestResult]:
    """Run the recipe's own test cases (the recipe alone, not the whole ordered set)."""
    results = []
    for index, test in enumerate(recipe.tests):
        event = build_test_event(recipe, test, index)
        evaluation = evaluate(recipe, event, test.snapshot)
        diff = _compare(test.expect, evaluation)
        results.append(RecipeTestResult(recipe.name, test.name, recipe.file, test.line,
                                        not diff, diff, evaluation))
    return results


def run_all_tests(recipes: Iterable[Recipe]) -> list[RecipeTestResult]:
    """`hub recipes test --all`: every test case of every recipe."""
    return [result for recipe in recipes for result in run_recipe_tests(recipe)]


def _compare(expect: Mapping[str, Any], evaluation: Evaluation) -> str:
    expected: dict[str, Any] = {}
    actual: dict[str, Any] = {}
    outcome = {"matched": evaluation.matched, "stopped": evaluation.stopped}
    for key, value in outcome.items():
        if key in expect:
            expected[key] = expect[key]
            actual[key] = value
    if "updates" in expect:
        wanted = [{"op": "set", **update} for update in expect["updates"]]
        expected["updates"] = wanted
        actual["updates"] = [_project(update.to_dict(), wanted, index)
                             for index, update in enumerate(evaluation.plan)]
    if jsonable(expected) == jsonable(actual):
        return ""
    lines = difflib.unified_diff(_dump(expected), _dump(actual), "expected", "actual", lineterm="")
    return "\n".join(lines)


def _project(update: dict[str, Any], wanted: list[dict[str, Any]], index: int) -> dict[str, Any]:
    """Only the keys the test names (field, op and value when it names no more)."""
    keys = wanted[index].keys() if index < len(wanted) else _UPDATE_KEYS
    return {key: update[key] for key in keys if key in update}


def _dump(value: Any) -> list[str]:
    return json.dumps(jsonable(value), indent=2, sort_keys=True, default=str).splitlines()
