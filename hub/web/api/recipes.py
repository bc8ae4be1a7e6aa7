"""Recipes: the loaded set with validation state, versions and YAML, and dry runs."""

from __future__ import annotations

from flask import Blueprint

from hub.context import current_hub
from hub.services.recipes import dry_runs as svc
from hub.web.api.declare import Api, Param, Reply, Route
from hub.web.api.shapes import ref
from hub.web.presenters.recipes import dry_run_dict, recipe_detail_dict, recipe_list_dict

bp = Blueprint("recipes", __name__)
api = Api(bp)
READERS = ("admin", "integration")
NAME = Param("name", description="The recipe's name", max_length=200)


@api.route(Route("get", "/recipes", "Loaded recipes in run order, with versions and validation state",
                 "recipes", READERS, {200: Reply("The loaded set", ref("RecipeList"))}))
def list_recipes():
    return recipe_list_dict(svc.recipe_summaries(current_hub()))


@api.route(Route("get", "/recipes/{name}", "One recipe: versions, YAML, validation state", "recipes",
                 READERS, {200: Reply("The recipe", ref("Recipe"))}, path_params=(NAME,), errors=(404,)))
def get_recipe(name: str):
    return recipe_detail_dict(svc.recipe_detail(current_hub(), name))


@api.route(Route("post", "/recipes/{name}/test", "Dry run on a posted event or a stored event id; writes "
                 "nothing", "recipes", READERS, {200: Reply("What the recipe would do", ref("DryRun"))},
                 path_params=(NAME,), body="api/recipe_test.schema.json", errors=(404,)))
def test_recipe(name: str, body: dict):
    return dry_run_dict(svc.dry_run(current_hub(), name, body.get("event"), body.get("eventId")))
