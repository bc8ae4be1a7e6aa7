"""Semantic checks on compiled recipes: fields, vocabularies, sources, coverage, workflows, users."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from hub.domain.payment_methods import VOCABULARY
from hub.domain.sources import creates_missing_users, fields_allowed, may_write, rank
from hub.errors import ConfigError
from hub.recipes.builder import known_connectors
from hub.recipes.conditions import iter_conditions
from hub.recipes.fields import SNAPSHOT, FieldCatalog, default_fields
from hub.recipes.model import (
    ERROR,
    WARNING,
    Action,
    Condition,
    IfStep,
    PlannedUpdate,
    Problem,
    ProblemList,
    Recipe,
    SwitchStep,
    did_you_mean,
    iter_steps,
)

PAYMENT_METHOD = "customer.payment_method"
_ENUM_OPERATORS = ("equals", "not_equals", "in", "not_in")


class Catalog(Protocol):
    """What validation and runs need to know about workflows and users (no I/O in the engine:
    the caller builds one from the database, e.g. an InMemoryCatalog)."""

    def workflow_by_name(self, name: str) -> Any | None: ...

    def workflow_exists_id(self, workflow_id: Any) -> bool: ...

    def user_exists(self, email: str) -> bool: ...

    def workflow_names(self) -> Iterable[str]: ...


@dataclass(frozen=True)
class InMemoryCatalog:
    """A Catalog from plain data: workflow name -> dunningPlanId, and user emails."""

    workflows: Mapping[str, Any] = field(default_factory=dict)
    users: Collection[str] = ()

    def workflow_by_name(self, name: str) -> Any | None:
        return self.workflows.get(name)

    def workflow_exists_id(self, workflow_id: Any) -> bool:
        wanted = str(workflow_id)
        return any(str(known) == wanted for known in self.workflows.values())

    def user_exists(self, email: str) -> bool:
        return email.lower() in {user.lower() for user in self.users}

    def workflow_names(self) -> Iterable[str]:
        return tuple(self.workflows)


def check_recipe(recipe: Recipe, problems: ProblemList, *, catalog: Catalog | None = None,
                 strict: bool = False, fields: FieldCatalog | None = None,
                 connections: Mapping[str, str] | None = None) -> None:
    """Append every semantic problem of `recipe`; `strict` turns soft warnings into errors."""
    soft = ERROR if strict else WARNING
    fields = fields or default_fields()
    _check_fields(recipe, fields, problems)
    _check_vocabularies(recipe, fields, problems)
    _check_payment_method_coverage(recipe, problems, soft)
    _check_source(recipe, problems)
    _check_trigger(recipe, problems, soft, connections)
    _check_workflow_spelling(recipe, problems)
    if catalog is not None:
        _check_catalog(recipe, catalog, problems, soft)


def check_recipe_set(recipes: Sequence[Recipe]) -> list[Problem]:
    """Problems that only show across recipes: two recipes with one name."""
    problems: list[Problem] = []
    seen: dict[str, Recipe] = {}
    for recipe in recipes:
        first = seen.setdefault(recipe.name, recipe)
        if first is not recipe:
            line = recipe.key_lines.get("name")
            problems.append(Problem(recipe.file, line, f"recipe name {recipe.name!r} is already"
                                                      f" used by {first.file}"))
    return problems


# --- fields and vocabularies ----------------------------------------------------------------


def _read_fields(recipe: Recipe) -> Iterator[tuple[str, int | None, str]]:
    """(field, line, what) for every field a recipe reads."""
    for condition in _all_conditions(recipe):
        if condition.field is not None:
            yield condition.field, condition.line, f"operator {condition.operator}"
    for step in iter_steps(recipe.steps):
        if isinstance(step, SwitchStep):
            yield step.field, step.line, "switch"
        elif isinstance(step, Action) and step.from_field:
            yield step.from_field, step.line, step.name


def _check_fields(recipe: Recipe, fields: FieldCatalog, problems: ProblemList) -> None:
    for name, line, _what in _read_fields(recipe):
        if not fields.knows(name):
            problems.error(line, f"unknown field {name!r}: the normalised event has no such"
                                 " field (see schemas/event.schema.json)", fields.suggest(name))
    for condition in _all_conditions(recipe):
        if condition.operator == "changed" and (condition.field or "").startswith(SNAPSHOT):
            problems.error(condition.line, "changed applies to event fields, not snapshot.*")


def _check_vocabularies(recipe: Recipe, fields: FieldCatalog, problems: ProblemList) -> None:
    for condition in _all_conditions(recipe):
        allowed = fields.enum_for(condition.field or "")
        if allowed and condition.operator in _ENUM_OPERATORS:
            values = condition.expected
            for value in values if isinstance(values, tuple) else (values,):
                _check_value(value, allowed, condition.field or "", condition.line, problems)
    for step in iter_steps(recipe.steps):
        allowed = fields.enum_for(step.field) if isinstance(step, SwitchStep) else None
        if allowed:
            texts = tuple("null" if v is None else v for v in allowed)
            for case in step.cases:
                for value in case.values:
                    _check_value(value, texts, step.field, case.line, problems)


def _check_value(value: Any, allowed: Sequence[Any], field_name: str, line: int | None,
                 problems: ProblemList) -> None:
    if value in allowed:
        return
    words = ", ".join(str(v) for v in allowed if v not in (None, "null"))
    problems.error(line, f"{value!r} can never match {field_name}: it is one of {words}",
                   did_you_mean(value, allowed))


def _check_payment_method_coverage(recipe: Recipe, problems: ProblemList, severity: str) -> None:
    for step in iter_steps(recipe.steps):
        if isinstance(step, SwitchStep) and step.field == PAYMENT_METHOD and step.default is None:
            missing = [method for method in VOCABULARY if method not in step.lookup]
            if missing:
                problems.add(severity, step.line,
                             f"switch on {PAYMENT_METHOD} has no default and does not cover "
                             f"{', '.join(missing)}; add those cases or a default")


# --- sources and triggers -------------------------------------------------------------------


def _check_source(recipe: Recipe, problems: ProblemList) -> None:
    line = recipe.key_lines.get("source")
    if rank(recipe.source) > rank(recipe.default_source):
        problems.error(line, f"source {recipe.source!r} ranks above this recipe's default "
                             f"{recipe.default_source!r} (from its trigger); a recipe may only "
                             "lower its source, e.g. to smart_rule")
    allowed = ", ".join(name.replace("_", " ") for name in fields_allowed(recipe.source) or ())
    for step in iter_steps(recipe.steps):
        if isinstance(step, Action) and step.field and not may_write(recipe.source, step.field):
            problems.error(step.line, f"{step.name} writes {step.field}, but source {recipe.source} "
                                      f"may write {allowed} only; declare source: api")


def _check_trigger(recipe: Recipe, problems: ProblemList, severity: str,
                   connections: Mapping[str, str] | None) -> None:
    line = recipe.trigger.line
    connector = recipe.trigger.connector
    if connector is not None and connector not in known_connectors():
        problems.add(severity, line, f"unknown connector {connector!r}",
                     did_you_mean(connector, known_connectors()))
    connection = recipe.trigger.connection
    if connection is not None and connections is not None and connection not in connections:
        problems.add(severity, line, f"unknown connection {connection!r}",
                     did_you_mean(connection, connections))


# --- workflows and users --------------------------------------------------------------------


def _check_workflow_spelling(recipe: Recipe, problems: ProblemList) -> None:
    for action in _actions(recipe, "assign_workflow"):
        name = action.value.get("name")
        if isinstance(name, str) and (name != name.strip() or "\u00a0" in name):
            problems.warning(action.line, f"workflow name {name!r} has leading, trailing or "
                                          "non-breaking spaces", " ".join(name.split()))


def _check_catalog(recipe: Recipe, catalog: Catalog, problems: ProblemList, severity: str) -> None:
    consequence = "; a run reaching this step fails with a config error until it exists"
    for action in _actions(recipe, "assign_workflow"):
        ref = action.value
        if "name" in ref and catalog.workflow_by_name(ref["name"]) is None:
            problems.add(severity, action.line, f"workflow {ref['name']!r} does not exist"
                         + consequence, did_you_mean(ref["name"], catalog.workflow_names()))
        elif "id" in ref and not catalog.workflow_exists_id(ref["id"]):
            problems.add(severity, action.line,
                         f"workflow with dunningPlanId {ref['id']!r} does not exist" + consequence)
    for action in _manager_actions(recipe):
        for email in _literal_emails(action):
            if not catalog.user_exists(email):
                problems.add(severity, action.line, f"user {email!r} does not exist"
                             + consequence)


def _manager_actions(recipe: Recipe) -> Iterator[Action]:
    for step in iter_steps(recipe.steps):
        if isinstance(step, Action) and step.field == "account_managers" and step.op != "remove":
            yield step


def _literal_emails(action: Action) -> tuple[str, ...]:
    if action.value is None:
        return ()
    return action.value if isinstance(action.value, tuple) else (action.value,)


def _actions(recipe: Recipe, name: str) -> Iterator[Action]:
    for step in iter_steps(recipe.steps):
        if isinstance(step, Action) and step.name == name:
            yield step


def _all_conditions(recipe: Recipe) -> Iterator[Condition]:
    yield from iter_conditions(recipe.when)
    for step in iter_steps(recipe.steps):
        if isinstance(step, IfStep):
            yield from iter_conditions(step.condition)


# --- at run time ----------------------------------------------------------------------------


def missing_targets(plan: Iterable[PlannedUpdate], catalog: Catalog) -> list[dict[str, Any]]:
    """Workflows and users a plan names that do not exist.

    Account managers planned by a source that creates missing users (the CRM's owners) are left
    out: the owner becomes the account manager even when no user has that email yet.
    """
    missing = []
    for update in plan:
        for kind, target in _targets(update):
            if not _exists(catalog, kind, target):
                missing.append({"kind": kind, "target": target, "recipe": update.recipe,
                                "step": update.step})
    return missing


def require_known_targets(plan: Iterable[PlannedUpdate], catalog: Catalog) -> None:
    """Raise ConfigError (class `config`: fail now, replay once fixed) for unknown targets."""
    missing = missing_targets(plan, catalog)
    if missing:
        names = ", ".join(f"{m['kind']} {m['target']!r} ({m['recipe']} {m['step']})"
                          for m in missing)
        raise ConfigError(f"recipe names what does not exist: {names}", details=missing)


def _targets(update: PlannedUpdate) -> list[tuple[str, Any]]:
    if update.field == "workflow":
        ((kind, target),) = update.value.items()
        return [("workflow" if kind == "name" else "workflow_id", target)]
    if update.field == "account_managers" and update.op != "remove":
        if creates_missing_users(update.source):
            return []
        emails = update.value if isinstance(update.value, list) else [update.value]
        return [("user", email) for email in emails]
    return []


def _exists(catalog: Catalog, kind: str, target: Any) -> bool:
    if kind == "workflow":
        return catalog.workflow_by_name(target) is not None
    if kind == "workflow_id":
        return catalog.workflow_exists_id(target)
    return catalog.user_exists(target)
