"""Loading recipes from text, a file or a folder: YAML, schema, compile, semantic checks — all or nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hub.recipes.builder import build_recipe, normalise_cases
from hub.recipes.engine import order_recipes
from hub.recipes.fields import FieldCatalog
from hub.recipes.model import Problem, ProblemList, Recipe, RecipeLoadError
from hub.recipes.schema_check import check_against_schema
from hub.recipes.testcases import check_test_events
from hub.recipes.validation import Catalog, check_recipe, check_recipe_set
from hub.recipes.yaml_loader import YamlMap, YamlRefused, parse_yaml

RECIPE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class LoadOptions:
    """What semantic checks may consult: workflows/users, connections, strictness."""

    catalog: Catalog | None = None
    strict: bool = False
    connections: Mapping[str, str] | None = None  # connection name -> connector name
    fields: FieldCatalog | None = None


@dataclass(frozen=True)
class LoadResult:
    """One file's outcome: the recipe (None when any error was found) and every problem."""

    file: str
    recipe: Recipe | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return self.recipe is not None

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.is_error)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if not p.is_error)


@dataclass(frozen=True)
class RecipeSet:
    """A folder's outcome: recipes in run order (empty when anything was refused)."""

    recipes: tuple[Recipe, ...]
    results: tuple[LoadResult, ...]
    problems: tuple[Problem, ...]  # every file's problems plus cross-recipe ones

    @property
    def ok(self) -> bool:
        return not any(p.is_error for p in self.problems)


def check_recipe_text(text: str, *, file: str = "<recipe>",
                      options: LoadOptions | None = None) -> LoadResult:
    """Validate a recipe's text and compile it; never raises for a bad recipe."""
    options = options or LoadOptions()
    problems = ProblemList(file)
    try:
        doc = parse_yaml(text, file)
    except YamlRefused as refused:
        return LoadResult(file, None, tuple(refused.problems))
    if not isinstance(doc, YamlMap):
        problems.error(getattr(doc, "line", 1), "a recipe is a mapping (name, trigger, steps...)")
        return _result(file, None, problems)
    normalise_cases(doc, problems)
    if problems.has_errors:
        return _result(file, None, problems)
    check_against_schema(doc, problems)
    if problems.has_errors:
        return _result(file, None, problems)
    recipe = build_recipe(doc, file=file, text=text, problems=problems,
                          connections=options.connections)
    check_recipe(recipe, problems, catalog=options.catalog, strict=options.strict,
                 fields=options.fields, connections=options.connections)
    check_test_events(recipe, problems)
    return _result(file, recipe, problems)


def _result(file: str, recipe: Recipe | None, problems: ProblemList) -> LoadResult:
    ordered = tuple(sorted(problems.items, key=lambda p: (p.line or 0)))
    return LoadResult(file, None if problems.has_errors else recipe, ordered)


def load_recipe_text(text: str, *, file: str = "<recipe>",
                     options: LoadOptions | None = None) -> Recipe:
    """The compiled recipe, or RecipeLoadError listing every problem (nothing is loaded)."""
    result = check_recipe_text(text, file=file, options=options)
    if result.recipe is None:
        raise RecipeLoadError(result.problems)
    return result.recipe


def check_recipe_file(path: str | Path, *, options: LoadOptions | None = None) -> LoadResult:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return LoadResult(str(path), None, (Problem(str(path), None, f"cannot read: {exc}"),))
    return check_recipe_text(text, file=str(path), options=options)


def load_recipe_file(path: str | Path, *, options: LoadOptions | None = None) -> Recipe:
    result = check_recipe_file(path, options=options)
    if result.recipe is None:
        raise RecipeLoadError(result.problems)
    return result.recipe


def check_recipe_dir(path: str | Path, *, options: LoadOptions | None = None) -> RecipeSet:
    """Check every *.yaml / *.yml file in a folder (not recursive), and the set as a whole."""
    folder = Path(path)
    if not folder.is_dir():
        problem = Problem(str(folder), None, "recipes folder not found")
        return RecipeSet((), (), (problem,))
    files = sorted(p for p in folder.iterdir() if p.suffix in RECIPE_SUFFIXES and p.is_file())
    results = tuple(check_recipe_file(p, options=options) for p in files)
    recipes = [r.recipe for r in results if r.recipe is not None]
    problems = [p for r in results for p in r.problems] + check_recipe_set(recipes)
    refused = any(p.is_error for p in problems)
    return RecipeSet(() if refused else order_recipes(recipes), results, tuple(problems))


def load_recipe_dir(path: str | Path, *, options: LoadOptions | None = None) -> tuple[Recipe, ...]:
    """All recipes of a folder in run order, or RecipeLoadError if any is refused.

    All or nothing on purpose: running a partial set would let a later recipe win a field the
    refused one should have won, and those runs could not be told apart afterwards.
    """
    recipe_set = check_recipe_dir(path, options=options)
    if not recipe_set.ok:
        raise RecipeLoadError(recipe_set.problems)
    return recipe_set.recipes
