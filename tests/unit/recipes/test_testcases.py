"""Recipes' embedded test cases: events filled from the trigger, diffs on failure."""

from __future__ import annotations

import json

from hub.recipes import run_all_tests, run_recipe_tests
from hub.recipes.testcases import build_test_event

WITH_TESTS = """
steps:
  - switch: customer.payment_method
    cases:
      card: {assign_workflow: Card payers}
    default: {assign_workflow: Standard}
tests:
  - name: card
    event: {customer: {payment_method: card}}
    expect:
      updates: [{field: workflow, value: {name: Card payers}}]
  - name: wrong on purpose
    event: {customer: {payment_method: paypal}}
    expect:
      matched: true
      updates: [{field: workflow, op: set, value: {name: Card payers}, source: smart_rule}]
"""


def test_passing_and_failing_cases_are_told_apart_with_a_diff(recipe, load):
    passed, failed = run_recipe_tests(load(recipe(WITH_TESTS)))
    assert passed.passed and passed.diff == "" and str(passed).startswith("PASS")
    assert not failed.passed
    assert (failed.file, failed.line) == ("test.yaml", 15)
    assert '-        "name": "Card payers"' in failed.diff
    assert '+        "name": "Standard"' in failed.diff
    assert '-      "source": "smart_rule"' in failed.diff
    assert str(failed).startswith("FAIL test-recipe: wrong on purpose (test.yaml:15)")
    json.dumps(failed.to_dict())


def test_test_events_are_filled_from_the_trigger(recipe, load):
    compiled = load(recipe(WITH_TESTS))
    event = build_test_event(compiled, compiled.tests[0], 3)
    assert event["connector"] == event["connection"] == "stripe"
    assert event["type"] == "customer.created"
    assert event["customer"] == {"external_id": "cus_test", "payment_method": "card"}
    assert event["occurred_at"] == "2026-01-01T00:00:00Z"


def test_extra_updates_show_in_the_diff(recipe, load):
    compiled = load(recipe("""
        steps: [{assign_workflow: A}, {add_account_manager: b@example.com}]
        tests:
          - name: expects one update only
            expect: {updates: [{field: workflow}]}
        """))
    (result,) = run_recipe_tests(compiled)
    assert not result.passed
    assert '+      "field": "account_managers"' in result.diff


def test_an_invalid_test_event_refuses_the_recipe(recipe, check):
    result = check(recipe("""
        steps: [{stop: true}]
        tests:
          - name: typo in the event
            event: {customer: {payment_methd: card}}
            expect: {matched: true}
        """))
    (error,) = result.errors
    assert error.line == 7
    assert "test 'typo in the event': event customer" in error.message


def test_test_snapshot_is_checked_against_the_snapshot_shape(recipe, check):
    result = check(recipe("""
        steps: [{stop: true}]
        tests:
          - name: snapshot typo
            snapshot: {workflow: Standard}
            expect: {matched: true}
        """))
    (error,) = result.errors
    assert (error.line, error.suggestion) == (8, "workflow_name")


def test_run_all_tests_covers_every_recipe(recipe, load):
    first = load(recipe(WITH_TESTS, name="first"))
    second = load(recipe("steps: [{stop: true}]\ntests: [{name: t, expect: {stopped: recipe}}]",
                         name="second"))
    results = run_all_tests([first, second])
    assert [(r.recipe, r.passed) for r in results] == [
        ("first", True), ("first", False), ("second", True)]
