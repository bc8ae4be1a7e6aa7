"""evaluate_in_order: the one orchestration of several recipes that evaluate_all, processing and
dry runs share (first writer wins a field, nothing after `stop: all`)."""

from __future__ import annotations

from hub.recipes import evaluate_all, evaluate_in_order, matching_recipes


def test_stop_all_ends_the_chain_after_the_recipe_that_ran_it(recipe, load, event):
    first = load(recipe("order: 1\nsteps: [{assign_workflow: A}, {stop: all}]", name="first"))
    second = load(recipe("order: 2\nsteps: [{add_account_manager: b@example.com}]", name="second"))
    evaluations = list(evaluate_in_order(matching_recipes([second, first], event()), event()))
    assert [(r.name, e.stopped) for r, e in evaluations] == [("first", "all")]
    (_, only), = evaluations
    assert [u.field for u in only.plan] == ["workflow"]
    assert "later recipes do not run" in only.trace[-1]["message"]


def test_a_stop_all_behind_a_false_branch_does_not_end_the_chain(recipe, load, event):
    first = load(recipe("order: 1\nsteps:\n  - if: {field: customer.currency, equals: eur}\n"
                        "    then: [{stop: all}]", name="first"))
    second = load(recipe("order: 2\nsteps: [{assign_workflow: B}]", name="second"))
    names = [r.name for r, _ in evaluate_in_order([first, second], event())]
    assert names == ["first", "second"]


def test_a_later_recipe_loses_a_field_an_earlier_one_set(recipe, load, event):
    early = load(recipe("order: 1\nsteps: [{assign_workflow: Early}]", name="early"))
    late = load(recipe("order: 2\nsteps: [{assign_workflow: Late},"
                       " {add_account_manager: a@example.com}]", name="late"))
    (_, one), (_, two) = evaluate_in_order([early, late], event())
    assert [u.value for u in one.plan] == [{"name": "Early"}]
    assert [u.value for u in two.plan] == ["a@example.com"]
    assert any(e.get("note") == "conflict" and e["winner"] == "early" for e in two.trace)


def test_a_recipe_that_does_not_match_is_yielded_with_nothing_planned(recipe, load, event):
    guarded = load(recipe("when: {field: customer.currency, equals: eur}\n"
                          "steps: [{assign_workflow: E}]", name="guarded"))
    ((name, evaluation),) = [(r.name, e) for r, e in evaluate_in_order([guarded], event())]
    assert name == "guarded" and not evaluation.matched and evaluation.plan == ()


def test_evaluate_all_is_the_fold_of_the_orchestration(recipe, load, event):
    a = load(recipe("order: 1\nsteps: [{assign_workflow: A}, {add_account_manager: a@example.com}]",
                    name="a"))
    b = load(recipe("order: 2\nsteps: [{assign_workflow: B}, {add_account_manager: b@example.com},"
                    " {stop: all}]", name="b"))
    c = load(recipe("order: 3\nsteps: [{assign_workflow: C}]", name="c"))
    folded = evaluate_all([c, b, a], event())
    parts = [e for _, e in evaluate_in_order(matching_recipes([c, b, a], event()), event())]
    assert folded.plan == tuple(u for e in parts for u in e.plan)
    assert folded.trace == tuple(t for e in parts for t in e.trace)
    assert folded.recipes == ("a", "b") and folded.stopped == "all"
