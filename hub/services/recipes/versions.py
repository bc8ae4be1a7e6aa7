"""Recipes as the pages show them: the loaded set file by file, and one recipe's versions, the
diff between two of them and its own test cases.

A folder is loaded all or nothing (hub.recipes.loader): while it is refused, the last good set
keeps running, so a recipe can be running an older version while its file is refused. Each
file's problems are therefore shown next to the recipe it holds, and files that hold no loaded
recipe (a new broken file) are listed on their own.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub.errors import InvalidInput, NotFound
from hub.recipes import Problem, Recipe, RecipeTestResult, run_recipe_tests
from hub.services.hub import Hub
from hub.services.recipes.dry_runs import RecipeDetail, recipe_detail, recipe_summaries

if TYPE_CHECKING:
    from hub.db.models import RecipeVersion

VALID, REFUSED = "valid", "refused"


@dataclass(frozen=True)
class LoadedRecipe:
    """One recipe of the running set: its version, and the problems of its file now."""

    recipe: Recipe
    version: int | None
    problems: tuple[Problem, ...]

    @property
    def state(self) -> str:
        return REFUSED if any(p.is_error for p in self.problems) else VALID


@dataclass(frozen=True)
class RecipeOverview:
    folder: str
    refused: bool  # the last load of the folder was refused: the set below is the last good one
    recipes: list[LoadedRecipe]
    failed_files: dict[str, tuple[Problem, ...]]  # files holding no running recipe, by file

    @property
    def names(self) -> list[str]:
        return [loaded.recipe.name for loaded in self.recipes]


def recipe_overview(hub: Hub) -> RecipeOverview:
    found = recipe_summaries(hub)
    loaded = found.loaded
    by_file: dict[str, list[Problem]] = {}
    for problem in loaded.problems:
        by_file.setdefault(problem.file, []).append(problem)
    recipes = [LoadedRecipe(r, loaded.versions.get(r.name), tuple(by_file.pop(r.file, ())))
               for r in loaded.recipes]
    failed = {file: tuple(problems) for file, problems in by_file.items()
              if any(p.is_error for p in problems)}
    return RecipeOverview(str(found.folder), loaded.refused, recipes, failed)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # add | del | hunk | same
    text: str


@dataclass(frozen=True)
class VersionDiff:
    old: int
    new: int
    lines: list[DiffLine]


@dataclass(frozen=True)
class RecipePage:
    """One recipe: what the API's detail holds, a diff when two versions are asked for, and the
    results of its own test cases (when it is loaded)."""

    detail: RecipeDetail
    diff: VersionDiff | None
    tests: list[RecipeTestResult]

    @property
    def yaml(self) -> str:
        current = self.detail.current
        return current.text if current else self.detail.versions[0].content

    @property
    def problems(self) -> tuple[Problem, ...]:
        current, loaded = self.detail.current, self.detail.loaded
        return tuple(p for p in loaded.problems if current is None or p.file == current.file)


def recipe_page(hub: Hub, name: str, old: int | None = None, new: int | None = None) -> RecipePage:
    detail = recipe_detail(hub, name)
    diff = version_diff(detail.versions, old, new) if old is not None or new is not None else None
    tests = run_recipe_tests(detail.current) if detail.current else []
    return RecipePage(detail, diff, tests)


def version_diff(versions: list[RecipeVersion], old: int | None, new: int | None) -> VersionDiff:
    """A unified diff of two stored versions (old → new); both must name a stored version."""
    if old is None or new is None:
        raise InvalidInput("choose two versions to compare (from and to)", code="parameter_invalid")
    by_number = {v.version: v for v in versions}
    for number in (old, new):
        if number not in by_number:
            raise NotFound(f"no version {number} of this recipe", code="recipe_version_not_found")
    lines = difflib.unified_diff(by_number[old].content.splitlines(),
                                 by_number[new].content.splitlines(),
                                 f"v{old}", f"v{new}", lineterm="")
    return VersionDiff(old, new, [DiffLine(_kind(line), line) for line in lines])


def _kind(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "head"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "add"
    if line.startswith("-"):
        return "del"
    return "same"
