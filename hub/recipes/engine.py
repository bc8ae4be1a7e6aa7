"""The engine, a pure function: evaluate(recipe, event, snapshot) -> Evaluation(plan, trace)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from hub.recipes.model import (
    NOTHING,
    Action,
    Evaluation,
    Event,
    IfStep,
    PlannedUpdate,
    Recipe,
    Snapshot,
    Step,
    SwitchStep,
    TraceEntry,
    case_key,
)


def order_recipes(recipes: Iterable[Recipe]) -> tuple[Recipe, ...]:
    """Recipes in the order they run: by `order`, then by name."""
    return tuple(sorted(recipes, key=lambda recipe: recipe.sort_key))


def matching_recipes(recipes: Iterable[Recipe], event: Event) -> tuple[Recipe, ...]:
    """The recipes whose trigger (connector or connection, event type) fits the event, in order."""
    return order_recipes(recipe for recipe in recipes if recipe.trigger.matches(event))


def evaluate(recipe: Recipe, event: Event, snapshot: Snapshot = None) -> Evaluation:
    """Run one recipe on one event. No I/O: the plan says what to write, the trace says why."""
    trace: list[TraceEntry] = [{"kind": "recipe", "recipe": recipe.name, "order": recipe.order,
                                "source": recipe.source}]
    if not recipe.trigger.matches(event):
        trace.append({"kind": "note", "path": "trigger", "result": False,
                      "message": "the trigger does not match this event"})
        return Evaluation(False, (), tuple(trace), ())
    if recipe.when is not None and not recipe.when.test(event, snapshot, trace):
        trace.append({"kind": "note", "path": "when", "result": False,
                      "message": "the when guard is false: the recipe does nothing"})
        return Evaluation(False, (), tuple(trace), ())
    run = _Run(recipe, event, snapshot, trace)
    run.steps(recipe.steps)
    return Evaluation(True, tuple(run.updates), tuple(trace), (recipe.name,), run.stopped)


class _Run:
    """The state of one recipe's run over one event."""

    __slots__ = ("recipe", "event", "snapshot", "trace", "updates", "written", "stopped")

    def __init__(self, recipe: Recipe, event: Event, snapshot: Snapshot,
                 trace: list[TraceEntry]):
        self.recipe = recipe
        self.event = event
        self.snapshot = snapshot
        self.trace = trace
        self.updates: list[PlannedUpdate] = []
        self.written: set[str] = set()
        self.stopped: str | None = None

    def steps(self, steps: tuple[Step, ...]) -> None:
        for step in steps:
            if isinstance(step, Action):
                self.action(step)
            elif isinstance(step, SwitchStep):
                self.switch(step)
            else:
                self.branch(step)
            if self.stopped:
                return

    def branch(self, step: IfStep) -> None:
        taken = step.condition.test(self.event, self.snapshot, self.trace)
        body = step.then if taken else step.otherwise
        self.trace.append({"kind": "branch", "path": step.path,
                           "taken": "then" if taken else ("else" if body else None)})
        self.steps(body)

    def switch(self, step: SwitchStep) -> None:
        actual = step.getter(self.event, self.snapshot)
        key = actual if actual.__class__ is str else case_key(actual)
        case = step.lookup.get(key)  # type: ignore[arg-type]
        if case is not None:
            taken, body = f"cases.{case.label}", case.body
        elif step.default is not None:
            taken, body = "default", step.default
        else:
            taken, body = None, ()
        self.trace.append({"kind": "branch", "path": step.path, "field": step.field,
                           "actual": actual, "taken": taken})
        self.steps(body)

    def action(self, action: Action) -> None:
        value = action.produce(self.event, self.snapshot)
        if action.op == "stop":
            self.stopped = value
            self.trace.append({"kind": "action", "path": action.path, "action": "stop",
                               "scope": value})
            return
        if value is NOTHING:
            self.trace.append({"kind": "action", "path": action.path, "action": action.name,
                               "field": action.field, "skipped": True,
                               "message": f"{action.from_field} is empty: nothing to write"})
            return
        recipe, field, op = self.recipe, action.field, action.op
        update = PlannedUpdate(field, op, value, recipe.source, self.event.get("occurred_at"),
                               recipe.name, action.path)
        if field in self.written:
            self.rewrite(update)
        else:
            self.written.add(field)
            self.updates.append(update)
        self.trace.append({"kind": "action", "path": action.path, "action": action.name,
                           "field": field, "op": op, "value": value})

    def rewrite(self, update: PlannedUpdate) -> None:
        """A second write to a field in one recipe: a `set` replaces the earlier writes."""
        if update.op == "set":
            replaced = [u.step for u in self.updates if u.field == update.field]
            self.updates = [u for u in self.updates if u.field != update.field]
            self.trace.append({"kind": "note", "path": update.step, "field": update.field,
                               "replaces": replaced,
                               "message": "a later set in the same recipe replaces earlier "
                                          "writes to this field"})
        self.updates.append(update)


def evaluate_in_order(recipes: Iterable[Recipe], event: Event,
                      snapshot: Snapshot = None) -> Iterator[tuple[Recipe, Evaluation]]:
    """Each recipe's evaluation, in the order given, under the rules that span recipes: the
    first recipe to write a field wins it (see first_wins), and nothing runs after a recipe
    that ran `stop: all`.

    The one orchestration of a set of recipes, so the rules cannot drift apart: evaluate_all
    folds it into one Evaluation, processing keeps one run per recipe, a dry run shows one
    recipe's part. Give it matching_recipes(...) for the recipes an event triggers; a recipe
    that does not match is yielded too (matched False, empty plan) so a caller can say why.
    Each yielded plan and trace already hold the cross-recipe drops and notes.
    """
    owners: dict[str, tuple[str, bool]] = {}  # field -> (recipe, whether it was set)
    for recipe in recipes:
        result = evaluate(recipe, event, snapshot)
        trace = list(result.trace)
        plan = first_wins(result.plan, owners, trace)
        if result.stopped == "all":
            trace.append({"kind": "note", "recipe": recipe.name,
                          "message": "stop: all — later recipes do not run for this event"})
        yield recipe, result._replace(plan=tuple(plan), trace=tuple(trace))
        if result.stopped == "all":
            return


def evaluate_all(recipes: Iterable[Recipe], event: Event,
                 snapshot: Snapshot = None) -> Evaluation:
    """Run every recipe the event triggers, in order; the first recipe to write a field wins it.

    A later recipe's write to a field an earlier recipe already wrote is dropped (and noted in
    the trace) when either write is a `set`; `add`/`remove` of account managers from several
    recipes combine. `stop: all` ends the chain.
    """
    plan: list[PlannedUpdate] = []
    trace: list[TraceEntry] = []
    ran: list[str] = []
    stopped = None
    for recipe, result in evaluate_in_order(matching_recipes(recipes, event), event, snapshot):
        trace.extend(result.trace)
        if result.matched:
            ran.append(recipe.name)
            plan.extend(result.plan)
        if result.stopped == "all":
            stopped = "all"
    return Evaluation(bool(ran), tuple(plan), tuple(trace), tuple(ran), stopped)


def first_wins(updates: Iterable[PlannedUpdate], owners: dict[str, tuple[str, bool]],
               trace: list[TraceEntry]) -> list[PlannedUpdate]:
    """The cross-recipe rule of evaluate_in_order: drop updates to fields an earlier recipe
    already wrote, noting each in `trace`.

    `owners` (field -> (recipe, whether it was set)) carries the state from recipe to recipe.
    """
    kept = []
    for update in updates:
        owner = owners.get(update.field)
        if owner is not None and owner[0] != update.recipe and (owner[1] or update.op == "set"):
            trace.append({"kind": "note", "note": "conflict", "field": update.field,
                          "recipe": update.recipe, "step": update.step, "winner": owner[0],
                          "message": f"{update.recipe} also writes {update.field}; the first "
                                     f"recipe in order ({owner[0]}) wins"})
            continue
        was_set = owner is not None and owner[0] == update.recipe and owner[1]
        owners[update.field] = (update.recipe, was_set or update.op == "set")
        kept.append(update)
    return kept

