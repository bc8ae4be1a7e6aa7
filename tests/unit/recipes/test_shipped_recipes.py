"""The recipes the hub ships: valid (strictly, against the workflows the demo creates), tested."""

from __future__ import annotations

import pytest

from hub.recipes import LoadOptions, check_recipe_dir, evaluate_all, load_recipe_dir, run_all_tests

EXPECTED = {
    "bad-payers",
    "chargebee-payment-method-to-workflow",
    "quickbooks-payment-terms-to-workflow",
    "salesforce-owner-to-account-manager",
    "stripe-payment-method-to-workflow",
}


@pytest.fixture
def shipped(shipped_dir, shipped_catalog):
    return load_recipe_dir(shipped_dir, options=LoadOptions(catalog=shipped_catalog, strict=True))


def test_shipped_recipes_are_valid_without_a_single_warning(shipped_dir, shipped_catalog):
    recipe_set = check_recipe_dir(shipped_dir,
                                  options=LoadOptions(catalog=shipped_catalog, strict=True))
    assert recipe_set.problems == ()
    assert {r.name for r in recipe_set.recipes} == EXPECTED


def test_shipped_recipes_carry_test_cases_that_pass(shipped):
    results = run_all_tests(shipped)
    assert all(recipe.tests for recipe in shipped)
    failures = [str(r) for r in results if not r.passed]
    assert failures == []


def test_bad_payers_runs_first_and_wins_the_workflow(shipped, event):
    risky = event(connector="chargebee", connection="chargebee", type="customer.updated",
                  customer={"payment_method": "card", "custom_fields": {"risk_rating": "high"}})
    result = evaluate_all(shipped, risky)
    assert result.recipes == ("bad-payers", "chargebee-payment-method-to-workflow")
    workflow = [u for u in result.plan if u.field == "workflow"]
    assert [(u.recipe, u.value) for u in workflow] == [("bad-payers", {"name": "Bad payers"})]
    assert any(e.get("note") == "conflict" and e["winner"] == "bad-payers" for e in result.trace)


def test_recipes_carry_a_content_hash(shipped, shipped_dir):
    stripe = next(r for r in shipped if r.name == "stripe-payment-method-to-workflow")
    assert len(stripe.content_hash) == 64
    assert stripe.file.endswith("stripe-payment-method-to-workflow.yaml")
    assert stripe.summary()["trigger"] == {
        "connector": "stripe", "events": ["customer.created", "customer.payment_method.changed"]}
