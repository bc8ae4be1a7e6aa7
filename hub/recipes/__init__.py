"""The recipe engine: YAML recipes loaded with line numbers, validated, compiled, evaluated purely."""

from hub.recipes.engine import (
    evaluate,
    evaluate_all,
    evaluate_in_order,
    first_wins,
    matching_recipes,
    order_recipes,
)
from hub.recipes.loader import (
    LoadOptions,
    LoadResult,
    RecipeSet,
    check_recipe_dir,
    check_recipe_file,
    check_recipe_text,
    load_recipe_dir,
    load_recipe_file,
    load_recipe_text,
)
from hub.recipes.model import (
    Evaluation,
    PlannedUpdate,
    Problem,
    Recipe,
    RecipeLoadError,
)
from hub.recipes.testcases import RecipeTestResult, run_all_tests, run_recipe_tests
from hub.recipes.validation import (
    Catalog,
    InMemoryCatalog,
    missing_targets,
    require_known_targets,
)

__all__ = [
    "Catalog",
    "Evaluation",
    "InMemoryCatalog",
    "LoadOptions",
    "LoadResult",
    "PlannedUpdate",
    "Problem",
    "Recipe",
    "RecipeLoadError",
    "RecipeSet",
    "RecipeTestResult",
    "check_recipe_dir",
    "check_recipe_file",
    "check_recipe_text",
    "evaluate",
    "evaluate_all",
    "evaluate_in_order",
    "first_wins",
    "load_recipe_dir",
    "load_recipe_file",
    "load_recipe_text",
    "matching_recipes",
    "missing_targets",
    "order_recipes",
    "require_known_targets",
    "run_all_tests",
    "run_recipe_tests",
]
