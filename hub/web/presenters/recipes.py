"""Recipes: the loaded set with validation state, one recipe with its stored versions, dry runs."""

from __future__ import annotations

from typing import Any

from hub.presentation import iso
from hub.services.recipes.dry_runs import DryRun, RecipeDetail, RecipeSet


def recipe_list_dict(recipe_set: RecipeSet) -> dict[str, Any]:
    loaded = recipe_set.loaded
    problems = [p.to_dict() for p in loaded.problems]
    recipes = [{**r.summary(), "version": loaded.versions.get(r.name),
                "problems": [p for p in problems if p["file"] == r.file]} for r in loaded.recipes]
    return {"folder": str(recipe_set.folder), "refused": loaded.refused,
            "problems": problems, "recipes": recipes}


def recipe_detail_dict(detail: RecipeDetail) -> dict[str, Any]:
    current, loaded = detail.current, detail.loaded
    return {
        "name": detail.name,
        "current": {**current.summary(), "version": loaded.versions.get(detail.name)} if current else None,
        "yaml": current.text if current else detail.versions[0].content,
        "validation": {"refused": loaded.refused,
                       "problems": [p.to_dict() for p in loaded.problems
                                    if current is None or p.file == current.file]},
        "versions": [{"version": v.version, "hash": v.content_hash, "loadedAt": iso(v.loaded_at),
                      "current": v.is_current, "path": v.path} for v in detail.versions],
    }


def dry_run_dict(dry_run: DryRun) -> dict[str, Any]:
    results = [{**r.evaluation.to_dict(), "customerExists": r.customer_exists, "outcomes": r.outcomes}
               for r in dry_run.results]
    return {"recipe": dry_run.recipe, "version": dry_run.version, "dryRun": True, "results": results}
