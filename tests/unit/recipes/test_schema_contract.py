"""The recipe schema is the contract: valid JSON Schema, closed objects, in step with the code."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from hub.recipes.actions import ACTIONS
from hub.recipes.conditions import COMBINATORS, OPERATORS
from hub.recipes.fields import SCHEMAS_DIR


def _schema():
    return json.loads((SCHEMAS_DIR / "recipe.schema.json").read_text())


def _objects(node):
    if isinstance(node, dict):
        if "properties" in node:
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def test_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(_schema())


def test_every_object_with_properties_is_closed():
    for node in _objects(_schema()):
        assert node.get("additionalProperties") is False, sorted(node["properties"])


def test_schema_operators_match_the_registry():
    condition = _schema()["$defs"]["condition"]["properties"]
    assert set(condition) == {"field", *OPERATORS, *COMBINATORS}


def test_schema_actions_match_the_registry():
    step = _schema()["$defs"]["step"]["properties"]
    assert set(step) - {"if", "then", "else", "switch", "cases", "default"} == set(ACTIONS)
