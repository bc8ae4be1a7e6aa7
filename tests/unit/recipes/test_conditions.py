"""Every operator and combinator, evaluated through a recipe's `when` guard, with its trace."""

from __future__ import annotations

import pytest

from hub.recipes import evaluate
from hub.recipes.conditions import OPERATORS

CUSTOMER = {
    "external_id": "cus_1",
    "name": "Acme Logistics LLC",
    "email": "billing@acme.example",
    "currency": "eur",
    "payment_method": "sepa_debit",
    "owner_email": None,
    "custom_fields": {"segment": "enterprise", "seats": 40, "vip": True, "tags": "a,b"},
}
SNAPSHOT = {"external_id": "cus_1", "dunningPlanId": "dp_std", "workflow_name": "Standard",
            "account_managers": ["jane@example.com"], "custom_fields": {"failed_payments": 2}}

CASES = [
    # operator, condition, expected result
    ("equals", "{field: customer.currency, equals: eur}", True),
    ("equals", "{field: customer.currency, equals: usd}", False),
    ("equals", "{field: customer.custom_fields.seats, equals: 40}", True),
    ("equals", "{field: customer.custom_fields.seats, equals: '40'}", False),
    ("equals", "{field: customer.custom_fields.vip, equals: true}", True),
    ("equals", "{field: customer.owner_email, equals: null}", True),
    ("not_equals", "{field: customer.currency, not_equals: usd}", True),
    ("not_equals", "{field: customer.currency, not_equals: eur}", False),
    ("in", "{field: customer.payment_method, in: [sepa_debit, ach_debit]}", True),
    ("in", "{field: customer.payment_method, in: [card]}", False),
    ("in", "{field: customer.custom_fields.seats, in: [10, 40]}", True),
    ("not_in", "{field: customer.payment_method, not_in: [card, paypal]}", True),
    ("not_in", "{field: customer.payment_method, not_in: [sepa_debit]}", False),
    ("exists", "{field: customer.email, exists: true}", True),
    ("exists", "{field: customer.owner_email, exists: true}", False),
    ("exists", "{field: customer.custom_fields.nope, exists: false}", True),
    ("missing", "{field: customer.owner_email, missing: true}", True),
    ("missing", "{field: customer.email, missing: true}", False),
    ("gt", "{field: customer.custom_fields.seats, gt: 39}", True),
    ("gt", "{field: customer.custom_fields.seats, gt: 40}", False),
    ("gte", "{field: customer.custom_fields.seats, gte: 40}", True),
    ("lt", "{field: customer.custom_fields.seats, lt: 40.5}", True),
    ("lt", "{field: customer.custom_fields.vip, lt: 2}", False),  # booleans are not numbers
    ("lte", "{field: customer.custom_fields.seats, lte: 39}", False),
    ("gte", "{field: occurred_at, gte: '2026-01-01'}", True),  # ISO times compare as text
    ("gt", "{field: customer.currency, gt: 3}", False),  # text is never compared to numbers
    ("matches", "{field: customer.name, matches: '(?i)\\bllc$'}", True),
    ("matches", "{field: customer.email, matches: '@example\\.com$'}", False),
    ("matches", "{field: customer.owner_email, matches: '.*'}", False),
    ("contains", "{field: customer.name, contains: Logistics}", True),
    ("contains", "{field: snapshot.account_managers, contains: jane@example.com}", True),
    ("contains", "{field: snapshot.account_managers, contains: sam@example.com}", False),
    ("contains", "{field: changes, contains: customer.payment_method}", True),
    ("changed", "{field: customer.payment_method, changed: true}", True),
    ("changed", "{field: customer.custom_fields, changed: true}", True),  # a sub-field changed
    ("changed", "{field: customer.owner_email, changed: true}", False),
    ("changed", "{field: customer.owner_email, changed: false}", True),
    ("all", "{all: [{field: customer.currency, equals: eur}, {field: type, exists: true}]}",
     True),
    ("all", "{all: [{field: customer.currency, equals: eur}, {field: type, missing: true}]}",
     False),
    ("any", "{any: [{field: customer.currency, equals: usd}, {field: type, exists: true}]}",
     True),
    ("any", "{any: [{field: customer.currency, equals: usd}]}", False),
    ("not", "{not: {field: customer.currency, equals: usd}}", True),
    ("snapshot", "{field: snapshot.custom_fields.failed_payments, gte: 2}", True),
    ("snapshot", "{field: snapshot.workflow_name, equals: Standard}", True),
]


def _guarded(recipe, load, condition):
    return load(recipe(f"when: {condition}\nsteps:\n  - assign_workflow: Standard\n"))


@pytest.mark.parametrize(("operator", "condition", "expected"), CASES)
def test_operator(operator, condition, expected, recipe, load, event):
    compiled = _guarded(recipe, load, condition)
    changes = {"customer.payment_method", "customer.custom_fields.segment"}
    result = evaluate(compiled, event(customer=CUSTOMER, changes=sorted(changes)), SNAPSHOT)
    assert result.matched is expected


def test_every_registered_operator_has_a_case():
    assert set(OPERATORS) <= {operator for operator, _, _ in CASES}


def test_snapshot_fields_read_as_null_for_an_unknown_customer(recipe, load, event):
    compiled = _guarded(recipe, load, "{field: snapshot, missing: true}")
    assert evaluate(compiled, event(), None).matched
    assert not evaluate(compiled, event(), SNAPSHOT).matched


def test_condition_trace_shows_inputs_and_result(recipe, load, event):
    compiled = _guarded(recipe, load, "{any: [{field: customer.currency, in: [usd, cad]},"
                                      " {not: {field: customer.payment_method, equals: paypal}}]}")
    result = evaluate(compiled, event(customer={"currency": "eur"}))
    conditions = [e for e in result.trace if e["kind"] == "condition"]
    assert conditions == [
        {"kind": "condition", "path": "when", "operator": "any", "result": True},
        {"kind": "condition", "path": "when.any[0]", "field": "customer.currency",
         "operator": "in", "expected": ("usd", "cad"), "actual": "eur", "result": False},
        {"kind": "condition", "path": "when.any[1]", "operator": "not", "result": True},
        {"kind": "condition", "path": "when.any[1].not", "field": "customer.payment_method",
         "operator": "equals", "expected": "paypal", "actual": "card", "result": False},
    ]


def test_all_stops_at_the_first_false_condition(recipe, load, event):
    compiled = _guarded(recipe, load, "{all: [{field: customer.currency, equals: usd},"
                                      " {field: customer.email, exists: true}]}")
    result = evaluate(compiled, event(customer={"currency": "eur"}))
    assert [e["path"] for e in result.trace if e["kind"] == "condition"] == [
        "when", "when.all[0]"]


def test_invalid_regex_is_refused_at_load_time_with_its_line(recipe, check):
    result = check(recipe("when: {field: customer.name, matches: '(unclosed'}\n"
                          "steps: [{stop: true}]\n"))
    (error,) = result.errors
    assert error.line == 5
    assert "invalid regular expression" in error.message
