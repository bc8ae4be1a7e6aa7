"""Recipes: the loaded set with validation state, versions and YAML, and dry runs."""

from __future__ import annotations

from flask import Blueprint

from hub.services import recipe_tests as svc
from hub.services.payloads import validate
from hub.web.context import current_hub, json_body, require

bp = Blueprint("recipes", __name__)
OPERATIONS = [
    ("get", "/recipes", "Loaded recipes in run order, with versions and validation state", "recipes", None),
    ("get", "/recipes/{name}", "One recipe: versions, YAML, validation state", "recipes", None),
    ("post", "/recipes/{name}/test", "Dry run on a posted event or a stored event id; writes nothing",
     "recipes", "api/recipe_test.schema.json"),
]


@bp.get("/recipes")
@require("admin", "integration")
def list_recipes():
    return svc.recipe_summaries(current_hub())


@bp.get("/recipes/<name>")
@require("admin", "integration")
def get_recipe(name: str):
    return svc.recipe_detail(current_hub(), name)


@bp.post("/recipes/<name>/test")
@require("admin", "integration")
def test_recipe(name: str):
    body = validate("api/recipe_test.schema.json", json_body())
    return svc.dry_run(current_hub(), name, body.get("event"), body.get("eventId"))
