"""The engine: branches, actions, stop, sources, first-in-order wins, JSON-able evaluations."""

from __future__ import annotations

import json

from hub.recipes import evaluate, evaluate_all, matching_recipes, order_recipes

SWITCH = """
steps:
  - switch: customer.payment_method
    cases:
      card: {assign_workflow: Card payers}
      [sepa_debit, ach_debit]: {assign_workflow: Direct debit}
    default: {assign_workflow: Standard}
"""


def _workflows(result):
    return [u.value for u in result.plan if u.field == "workflow"]


def test_switch_picks_scalar_case_list_case_and_default(recipe, load, event):
    compiled = load(recipe(SWITCH))
    assert _workflows(evaluate(compiled, event(customer={"payment_method": "card"}))) == [
        {"name": "Card payers"}]
    assert _workflows(evaluate(compiled, event(customer={"payment_method": "ach_debit"}))) == [
        {"name": "Direct debit"}]
    assert _workflows(evaluate(compiled, event(customer={"payment_method": None}))) == [
        {"name": "Standard"}]


def test_switch_trace_names_the_branch_taken(recipe, load, event):
    result = evaluate(load(recipe(SWITCH)), event(customer={"payment_method": "sepa_debit"}))
    branch = next(e for e in result.trace if e["kind"] == "branch")
    assert branch == {"kind": "branch", "path": "steps[0]", "field": "customer.payment_method",
                      "actual": "sepa_debit", "taken": "cases.[sepa_debit, ach_debit]"}
    (update,) = result.plan
    assert update.step == "steps[0].cases.[sepa_debit, ach_debit]"


def test_list_form_cases_work_like_mapping_form(recipe, load, event):
    compiled = load(recipe("""
        steps:
          - switch: customer.custom_fields.tier
            cases:
              - {values: [1, 2], then: {assign_workflow: Low}}
              - values: true
                then: [{assign_workflow: Flagged}]
        """))
    low = evaluate(compiled, event(customer={"custom_fields": {"tier": 2}}))
    flagged = evaluate(compiled, event(customer={"custom_fields": {"tier": True}}))
    none = evaluate(compiled, event(customer={"custom_fields": {"tier": 3}}))
    assert _workflows(low) == [{"name": "Low"}]
    assert _workflows(flagged) == [{"name": "Flagged"}]
    assert none.plan == () and none.matched


def test_nested_switch_and_if_follow_the_right_path(recipe, load, event):
    compiled = load(recipe("""
        steps:
          - switch: customer.currency
            cases:
              eur:
                - if: {field: customer.custom_fields.segment, equals: enterprise}
                  then:
                    switch: customer.payment_method
                    cases:
                      card: {assign_workflow: EU enterprise card}
                    default: {assign_workflow: EU enterprise}
                  else: {assign_workflow: EU}
            default: {assign_workflow: Rest of world}
        """))
    enterprise = {"currency": "eur", "payment_method": "card",
                  "custom_fields": {"segment": "enterprise"}}
    result = evaluate(compiled, event(customer=enterprise))
    assert _workflows(result) == [{"name": "EU enterprise card"}]
    assert result.plan[0].step == "steps[0].cases.eur[0].then.cases.card"
    small = evaluate(compiled, event(customer={"currency": "eur", "custom_fields": {}}))
    assert _workflows(small) == [{"name": "EU"}]
    assert small.plan[0].step == "steps[0].cases.eur[0].else"
    assert _workflows(evaluate(compiled, event(customer={"currency": "usd"}))) == [
        {"name": "Rest of world"}]


def test_if_without_else_takes_no_branch(recipe, load, event):
    compiled = load(recipe("""
        steps:
          - if: {field: customer.currency, equals: usd}
            then: {assign_workflow: US}
        """))
    result = evaluate(compiled, event(customer={"currency": "eur"}))
    assert result.plan == ()
    assert {"kind": "branch", "path": "steps[0]", "taken": None} in result.trace


def test_every_action_plans_its_update(recipe, load, event):
    compiled = load(recipe("""
        steps:
          - assign_workflow: {dunningPlanId: dp_42}
          - assign_account_managers: [AE-Team@Example.com, ops@example.com]
          - add_account_manager: Sam@Example.com
          - remove_account_manager: {from_field: snapshot.custom_fields.old_manager}
          - set_custom_field: {key: segment, value: enterprise}
          - set_custom_field: {key: origin, from_field: connector}
          - set_custom_field: {key: note, value: null}
        """))
    snapshot = {"custom_fields": {"old_manager": "Old@Example.com"}}
    result = evaluate(compiled, event(), snapshot)
    assert [(u.field, u.op, u.value) for u in result.plan] == [
        ("workflow", "set", {"id": "dp_42"}),
        ("account_managers", "set", ["ae-team@example.com", "ops@example.com"]),
        ("account_managers", "add", "sam@example.com"),
        ("account_managers", "remove", "old@example.com"),
        ("custom_fields.segment", "set", "enterprise"),
        ("custom_fields.origin", "set", "stripe"),
        ("custom_fields.note", "set", None),
    ]


def test_account_managers_from_an_event_field(recipe, load, event):
    compiled = load(recipe("steps: [{assign_account_managers: {from_field: customer.owner_email}}]"))
    one = evaluate(compiled, event(customer={"owner_email": " Jane.Doe@Example.com "}))
    assert one.plan[0].value == ["jane.doe@example.com"]
    several = evaluate(compiled, event(customer={"owner_email": "a@example.com, b@example.com"}))
    assert several.plan[0].value == ["a@example.com", "b@example.com"]


def test_empty_source_field_plans_nothing_and_says_so(recipe, load, event):
    compiled = load(recipe("steps: [{assign_account_managers: {from_field: customer.owner_email}}]"))
    result = evaluate(compiled, event(customer={"owner_email": None}))
    assert result.plan == ()
    (entry,) = [e for e in result.trace if e["kind"] == "action"]
    assert entry["skipped"] is True
    assert "customer.owner_email is empty" in entry["message"]


def test_stop_ends_the_recipe(recipe, load, event):
    compiled = load(recipe("""
        steps:
          - assign_workflow: First
          - if: {field: customer.currency, equals: usd}
            then: [{stop: true}]
          - assign_account_managers: [late@example.com]
        """))
    stopped = evaluate(compiled, event(customer={"currency": "usd"}))
    assert [u.field for u in stopped.plan] == ["workflow"]
    assert stopped.stopped == "recipe"
    going = evaluate(compiled, event(customer={"currency": "eur"}))
    assert [u.field for u in going.plan] == ["workflow", "account_managers"]
    assert going.stopped is None


def test_a_later_set_in_one_recipe_replaces_the_earlier_write(recipe, load, event):
    compiled = load(recipe("""
        steps:
          - assign_workflow: Standard
          - if: {field: customer.custom_fields.segment, equals: enterprise}
            then: {assign_workflow: Enterprise}
        """))
    result = evaluate(compiled, event(customer={"custom_fields": {"segment": "enterprise"}}))
    assert [u.value for u in result.plan] == [{"name": "Enterprise"}]
    assert any(e.get("replaces") == ["steps[0]"] for e in result.trace)


def test_updates_carry_source_time_recipe_and_step(recipe, load, event):
    compiled = load(recipe("source: smart_rule\nsteps: [{assign_workflow: Standard}]"))
    (update,) = evaluate(compiled, event(occurred_at="2026-05-01T10:00:00Z")).plan
    assert update.to_dict() == {
        "field": "workflow", "op": "set", "value": {"name": "Standard"},
        "source": "smart_rule", "occurredAt": "2026-05-01T10:00:00Z",
        "recipe": "test-recipe", "step": "steps[0]",
    }


def test_trigger_must_match_connector_and_event_type(recipe, load, event):
    compiled = load(recipe("steps: [{assign_workflow: Standard}]"))
    assert evaluate(compiled, event()).matched
    assert not evaluate(compiled, event(connector="chargebee")).matched
    assert not evaluate(compiled, event(type="customer.deleted")).matched
    assert evaluate(compiled, event(connector="chargebee")).trace[-1]["path"] == "trigger"


def test_trigger_by_connection(load, event):
    compiled = load("""
        name: eu-only
        trigger: {connection: stripe-eu, events: [customer.created]}
        steps: [{assign_workflow: EU}]
        """)
    assert evaluate(compiled, event(type="customer.created", connection="stripe-eu")).matched
    assert not evaluate(compiled, event(type="customer.created")).matched


def test_false_guard_means_not_matched(recipe, load, event):
    compiled = load(recipe("when: {field: customer.currency, in: [usd]}\n"
                           "steps: [{assign_workflow: US}]"))
    result = evaluate(compiled, event(customer={"currency": "eur"}))
    assert not result.matched and result.plan == ()
    assert result.trace[-1]["path"] == "when"


def test_first_recipe_in_order_wins_a_field_and_the_trace_says_so(recipe, load, event):
    late = load(recipe("order: 50\nsteps: [{assign_workflow: Late}]", name="a-late"))
    early = load(recipe("order: 5\nsteps: [{assign_workflow: Early},"
                        " {add_account_manager: a@example.com}]", name="z-early"))
    result = evaluate_all([late, early], event())
    assert result.recipes == ("z-early", "a-late")
    assert [(u.recipe, u.value) for u in result.plan] == [
        ("z-early", {"name": "Early"}), ("z-early", "a@example.com")]
    (conflict,) = [e for e in result.trace if e.get("note") == "conflict"]
    assert conflict["field"] == "workflow"
    assert conflict["recipe"] == "a-late" and conflict["winner"] == "z-early"
    assert "first recipe in order (z-early) wins" in conflict["message"]


def test_equal_order_runs_by_name(recipe, load):
    b = load(recipe("steps: [{stop: true}]", name="b"))
    a = load(recipe("steps: [{stop: true}]", name="a"))
    assert [r.name for r in order_recipes([b, a])] == ["a", "b"]


def test_account_manager_adds_from_several_recipes_combine(recipe, load, event):
    one = load(recipe("steps: [{add_account_manager: a@example.com}]", name="one"))
    two = load(recipe("steps: [{add_account_manager: b@example.com}]", name="two"))
    setter = load(recipe("steps: [{assign_account_managers: [c@example.com]}]", name="three"))
    result = evaluate_all([one, two, setter], event())
    assert [u.value for u in result.plan] == ["a@example.com", "b@example.com"]
    assert any(e.get("note") == "conflict" and e["recipe"] == "three" for e in result.trace)


def test_stop_all_skips_later_recipes(recipe, load, event):
    first = load(recipe("order: 1\nsteps: [{assign_workflow: A}, {stop: all}]", name="first"))
    second = load(recipe("steps: [{add_account_manager: b@example.com}]", name="second"))
    result = evaluate_all([second, first], event())
    assert result.recipes == ("first",)
    assert result.stopped == "all"
    assert [u.recipe for u in result.plan] == ["first"]


def test_only_triggered_recipes_run(recipe, load, event):
    stripe = load(recipe("steps: [{assign_workflow: S}]", name="s"))
    chargebee = load(recipe("steps: [{assign_workflow: C}]", name="c", connector="chargebee"))
    assert matching_recipes([stripe, chargebee], event()) == (stripe,)
    nothing = evaluate_all([chargebee], event())
    assert not nothing.matched and nothing.plan == () and nothing.trace == ()


def test_evaluation_is_json_serialisable(recipe, load, event):
    compiled = load(recipe(SWITCH + """\
  - if: {all: [{field: customer.currency, in: [usd, eur]}, {field: changes, contains: x}]}
    then: {stop: true}
"""))
    result = evaluate_all([compiled], event(), {"account_managers": ["x@example.com"]})
    as_dict = result.to_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["plan"][0]["value"] == {"name": "Card payers"}


def test_editing_a_plan_cannot_change_the_recipe(recipe, load, event):
    compiled = load(recipe("steps: [{assign_workflow: Standard},"
                           " {assign_account_managers: [a@example.com]}]"))
    first = evaluate(compiled, event())
    first.plan[0].value["name"] = "Hacked"
    first.plan[1].value.append("b@example.com")
    again = evaluate(compiled, event())
    assert [u.value for u in again.plan] == [{"name": "Standard"}, ["a@example.com"]]


def test_evaluation_does_not_change_its_inputs(recipe, load, event):
    compiled = load(recipe(SWITCH))
    given, snapshot = event(), {"account_managers": ["a@example.com"]}
    before = json.dumps([given, snapshot], sort_keys=True)
    evaluate_all([compiled], given, snapshot)
    assert json.dumps([given, snapshot], sort_keys=True) == before


DESIGN_SKETCH = """
name: stripe-payment-method-to-workflow
description: Pick the collection workflow from the customer's default payment method.
trigger:
  connector: stripe                      # or connection: stripe-eu
  events: [customer.created, customer.payment_method.changed]
when: {field: customer.currency, in: [usd, eur]}          # optional guard
steps:
  - switch: customer.payment_method
    cases:
      card:                {assign_workflow: Card payers}
      [sepa_debit, ach_debit]: {assign_workflow: Direct debit}
    default:               {assign_workflow: Standard}
  - if: {field: customer.custom_fields.segment, equals: enterprise}
    then: [{assign_account_managers: [ae-team@example.com]}]
"""


def test_the_design_sketch_loads_exactly_as_written(load, event):
    compiled = load(DESIGN_SKETCH)
    customer = {"currency": "usd", "payment_method": "sepa_debit",
                "custom_fields": {"segment": "enterprise"}}
    result = evaluate(compiled, event(customer=customer))
    assert [(u.field, u.value) for u in result.plan] == [
        ("workflow", {"name": "Direct debit"}),
        ("account_managers", ["ae-team@example.com"]),
    ]
    assert not evaluate(compiled, event(customer={"currency": "gbp"})).matched
