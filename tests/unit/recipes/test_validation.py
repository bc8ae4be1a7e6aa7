"""Schema wording and semantic checks: fields, vocabularies, coverage, sources, catalog."""

from __future__ import annotations

import pytest

from connectors import registry
from connectors.base import Connector
from hub.domain.sources import Source
from hub.errors import ConfigError
from hub.recipes import InMemoryCatalog, evaluate, missing_targets, require_known_targets


def _only(problems):
    (problem,) = problems
    return problem


# --- the schema's wording -------------------------------------------------------------------


def test_unknown_top_level_key_suggests_the_right_one(check):
    result = check("""
        name: x
        trigers: {connector: stripe, events: [customer.created]}
        steps: [{stop: true}]
        """)
    messages = [(p.line, p.message, p.suggestion) for p in result.errors]
    assert (2, "unknown key 'trigers'", "trigger") in messages
    assert (1, "the recipe is missing 'trigger'", None) in messages


def test_unknown_action_suggests_the_right_one(recipe, check):
    error = _only(check(recipe("steps:\n  - assign_worklow: Standard\n")).errors)
    assert (error.line, error.suggestion) == (6, "assign_workflow")
    assert error.message == "unknown action or key 'assign_worklow' in a step"


@pytest.mark.parametrize(("body", "line", "words"), [
    ("steps:\n  - if: {field: type, exists: true}\n", 6, "steps[0] is missing 'then'"),
    ("steps:\n  - {assign_workflow: A, stop: true}\n", 6, "exactly one action"),
    ("steps:\n  - switch: customer.currency\n    then: {stop: true}\n", 7,
     "'then' does not belong in a switch step"),
    ("steps: []\n", 5, "steps: [] should be non-empty"),
    ("steps:\n  - {if: {field: type}, then: {stop: true}}\n", 6, "exactly one operator"),
    ("steps:\n  - {if: {field: type, equals: a, in: [b]}, then: {stop: true}}\n", 6,
     "exactly one operator"),
    ("steps:\n  - set_custom_field: {key: a}\n", 6, "either value or from_field"),
    ("steps:\n  - assign_account_managers: [not-an-email]\n", 6, "'not-an-email' is not an email"),
    ("steps:\n  - assign_workflow: {name: A, dunningPlanId: b}\n", 6, "not both"),
    ("steps:\n  - if: {field: 'customer..x', exists: true}\n    then: {stop: true}\n", 6,
     "is not a field path"),
    ("when: [a]\nsteps: [{stop: true}]\n", 5, "a condition is a mapping"),
    ("steps:\n  - {[a, b]: {stop: true}}\n", 6, "a list can be a key only in a switch's cases"),
])
def test_schema_problems_read_well(recipe, check, body, line, words):
    problems = check(recipe(body)).errors
    assert any(p.line == line and words in p.message for p in problems), problems


def test_trigger_needs_exactly_one_of_connector_and_connection(check):
    result = check("""
        name: x
        trigger: {connector: stripe, connection: stripe, events: [customer.created]}
        steps: [{stop: true}]
        """)
    assert "exactly one of connector or connection" in _only(result.errors).message


def test_unknown_event_type_suggests_the_right_one(check):
    result = check("""
        name: x
        trigger: {connector: stripe, events: [customer.update]}
        steps: [{stop: true}]
        """)
    error = _only(result.errors)
    assert (error.line, error.suggestion) == (2, "customer.updated")


# --- fields and vocabularies ----------------------------------------------------------------


def test_unknown_event_field_is_refused_with_suggestion(recipe, check):
    error = _only(check(recipe("when: {field: customer.payment_methods, equals: card}\n"
                               "steps: [{stop: true}]\n")).errors)
    assert error.line == 5
    assert "unknown field 'customer.payment_methods'" in error.message
    assert error.suggestion == "customer.payment_method"


@pytest.mark.parametrize("field", ["customer.custom_fields.anything", "snapshot.dunningPlanId",
                                   "snapshot.custom_fields.x", "changes", "snapshot", "type"])
def test_known_fields_are_accepted(recipe, check, field):
    assert check(recipe(f"when: {{field: {field}, exists: true}}\nsteps: [{{stop: true}}]\n")).ok


@pytest.mark.parametrize("field", ["snapshot.owner", "customer.custom_fields", "customer.x.y"])
def test_unknown_fields_in_switches_and_from_field_are_refused(recipe, check, field):
    body = f"""
        steps:
          - switch: customer.currency
            cases:
              eur: {{assign_account_managers: {{from_field: {field}}}}}
        """
    result = check(recipe(body))
    if field == "customer.custom_fields":
        assert result.ok  # an object, but a real field
    else:
        assert "unknown field" in _only(result.errors).message


def test_changed_on_a_snapshot_field_is_refused(recipe, check):
    error = _only(check(recipe("when: {field: snapshot.workflow_name, changed: true}\n"
                               "steps: [{stop: true}]\n")).errors)
    assert "changed applies to event fields" in error.message


def test_payment_method_values_outside_the_vocabulary_are_refused(recipe, check):
    result = check(recipe("""
        when: {field: customer.payment_method, in: [card, sepa_debt]}
        steps:
          - switch: customer.payment_method
            cases:
              carte: {stop: true}
            default: {stop: true}
        """))
    assert [(p.line, p.suggestion) for p in result.errors] == [(5, "sepa_debit"), (9, "card")]
    assert "can never match customer.payment_method" in result.errors[0].message


def test_event_type_values_are_checked_too(recipe, check):
    assert check(recipe("when: {field: type, equals: customer.created}\n"
                        "steps: [{stop: true}]\n")).problems == ()
    bad = _only(check(recipe("when: {field: type, equals: customer.create}\n"
                             "steps: [{stop: true}]\n")).errors)
    assert bad.suggestion == "customer.created"


# --- payment-method coverage ----------------------------------------------------------------

PARTIAL_SWITCH = """
steps:
  - switch: customer.payment_method
    cases:
      card: {assign_workflow: Card payers}
      [sepa_debit, ach_debit]: {assign_workflow: Direct debit}
"""


def test_partial_payment_method_switch_without_default_is_a_warning(recipe, check):
    result = check(recipe(PARTIAL_SWITCH))
    assert result.ok
    warning = _only(result.warnings)
    assert warning.line == 6
    assert "does not cover bacs_debit, direct_debit, paypal" in warning.message


def test_partial_payment_method_switch_is_an_error_when_strict(recipe, check):
    result = check(recipe(PARTIAL_SWITCH), strict=True)
    assert not result.ok
    assert _only(result.errors).line == 6


def test_full_coverage_or_a_default_needs_no_warning(recipe, check):
    every = "[card, sepa_debit, ach_debit, bacs_debit, direct_debit, paypal, bank_transfer," \
            " check, cash, other, none]"
    covered = recipe(f"steps:\n  - switch: customer.payment_method\n    cases:\n"
                     f"      {every}: {{stop: true}}\n")
    assert check(covered).problems == ()
    assert check(recipe(PARTIAL_SWITCH + "    default: {stop: true}\n")).problems == ()


# --- sources --------------------------------------------------------------------------------


def test_recipes_default_to_api_and_may_declare_smart_rule(recipe, load):
    assert load(recipe("steps: [{stop: true}]")).source == "api"
    lowered = load(recipe("source: smart_rule\nsteps: [{stop: true}]"))
    assert (lowered.source, lowered.default_source) == ("smart_rule", "api")


def test_a_stripe_recipe_cannot_declare_salesforce(recipe, check):
    error = _only(check(recipe("source: salesforce\nsteps: [{add_account_manager: a@b.c}]"))
                  .errors)
    assert error.line == 5
    assert "ranks above this recipe's default 'api'" in error.message


def test_salesforce_recipes_default_to_salesforce_and_write_managers_only(recipe, load, check):
    body = "steps: [{assign_account_managers: {from_field: customer.owner_email}}]"
    assert load(recipe(body, connector="salesforce")).source == "salesforce"
    error = _only(check(recipe("steps: [{assign_workflow: A}]", connector="salesforce")).errors)
    assert "may write account managers only" in error.message
    lowered = load(recipe("source: api\nsteps: [{assign_workflow: A}]", connector="salesforce"))
    assert lowered.source == "api"


def test_a_salesforce_connection_gives_the_salesforce_default(load):
    text = """
        name: x
        trigger: {connection: sf-prod, events: [customer.owner.changed]}
        steps: [{add_account_manager: {from_field: customer.owner_email}}]
        """
    assert load(text).source == "api"
    assert load(text, connections={"sf-prod": "salesforce"}).source == "salesforce"
    assert load(text.replace("sf-prod", "salesforce")).source == "salesforce"


def test_the_trigger_connectors_class_gives_the_default_source(recipe, load):
    """A CRM plugin declares `default_source`: its recipes get it with no vendor name in hub/."""

    class OtherCrm(Connector):
        name = "othercrm"
        default_source = Source.SALESFORCE

        def verify(self, request):
            return None

        def parse(self, request):
            return []

        def normalise(self, stored):
            return []

    registry.register("othercrm", OtherCrm)
    try:
        body = "steps: [{assign_account_managers: {from_field: customer.owner_email}}]"
        assert load(recipe(body, connector="othercrm")).source == "salesforce"
        assert load(recipe(body, connector="no-such-connector")).source == "api"
    finally:
        registry.reset()


def test_unknown_connector_or_connection_is_a_warning(recipe, check):
    warning = _only(check(recipe("steps: [{stop: true}]", connector="strip")).warnings)
    assert (warning.line, warning.suggestion) == (3, "stripe")
    strict = check(recipe("steps: [{stop: true}]", connector="strip"), strict=True)
    assert not strict.ok
    text = "name: x\ntrigger: {connection: stripe-e, events: [customer.created]}\nsteps: [{stop: true}]\n"
    assert check(text, connections={"stripe-eu": "stripe"}).warnings[0].suggestion == "stripe-eu"


# --- workflows and users --------------------------------------------------------------------

CATALOG = InMemoryCatalog({"Standard": "dp_std", "Card payers": 7}, ["ae@example.com"])


def test_unknown_users_and_workflow_ids_are_warnings_then_strict_errors(recipe, check):
    body = """
        steps:
          - assign_workflow: {dunningPlanId: dp_nope}
          - assign_workflow: {dunningPlanId: 7}
          - assign_account_managers: [ae@example.com, ghost@example.com]
          - remove_account_manager: gone@example.com
        """
    result = check(recipe(body), catalog=CATALOG)
    assert [(p.line, p.severity) for p in result.problems] == [(6, "warning"), (8, "warning")]
    assert "dunningPlanId 'dp_nope'" in result.problems[0].message
    assert "user 'ghost@example.com'" in result.problems[1].message
    assert len(check(recipe(body), catalog=CATALOG, strict=True).errors) == 2


def test_workflow_names_with_stray_spaces_are_flagged(recipe, check):
    warning = _only(check(recipe('steps: [{assign_workflow: "Standard\\u00a0"}]')).warnings)
    assert warning.suggestion == "Standard"


def test_a_run_naming_a_missing_workflow_fails_with_a_config_error(recipe, load, event):
    compiled = load(recipe("steps: [{assign_workflow: Gone}, {add_account_manager: x@y.z}]"))
    plan = evaluate(compiled, event()).plan
    assert [m["target"] for m in missing_targets(plan, CATALOG)] == ["Gone", "x@y.z"]
    with pytest.raises(ConfigError) as failed:
        require_known_targets(plan, CATALOG)
    assert failed.value.error_class == "config"
    assert "Gone" in failed.value.message


def test_salesforce_owners_need_no_existing_user(recipe, load, event):
    compiled = load(recipe("steps: [{assign_account_managers: {from_field: customer.owner_email}}]",
                           connector="salesforce", events="[customer.owner.changed]"))
    result = evaluate(compiled, event(connector="salesforce", type="customer.owner.changed",
                                      customer={"owner_email": "new@example.com"}))
    require_known_targets(result.plan, CATALOG)
