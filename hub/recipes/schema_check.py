"""JSON Schema validation of a recipe document, each error told as a Problem with its line."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from hub.recipes.fields import load_schema
from hub.recipes.model import ProblemList, did_you_mean
from hub.recipes.yaml_loader import YamlMap, YamlSeq

# Errors that explain an object well enough that the others on the same object are noise
# (a missing required key is still worth saying).
_DECISIVE = ("additionalProperties", "type")
_KEPT = (*_DECISIVE, "required")
_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer",
               float: "number", type(None): "null"}


@lru_cache(maxsize=1)
def recipe_validator() -> Draft202012Validator:
    """The validator for schemas/recipe.schema.json (built once; `cache_clear()` resets it)."""
    return Draft202012Validator(load_schema("recipe.schema.json"))


def check_against_schema(doc: Any, problems: ProblemList) -> None:
    """Append a problem, with line and suggestion, for every way `doc` breaks the schema."""
    errors = _without_noise(recipe_validator().iter_errors(doc))
    for error in errors:
        _tell(error, doc, problems)
    _deduplicate(problems)


def _without_noise(errors: Iterable[ValidationError]) -> list[ValidationError]:
    errors = list(errors)
    decided = {tuple(e.absolute_path) for e in errors if e.validator in _DECISIVE}
    return [e for e in errors if e.validator in _KEPT or tuple(e.absolute_path) not in decided]


def _deduplicate(problems: ProblemList) -> None:
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for problem in problems.items:
        key = (problem.line, problem.message)
        if key not in seen:
            seen.add(key)
            unique.append(problem)
    problems.items[:] = unique


def _tell(error: ValidationError, doc: Any, problems: ProblemList) -> None:
    path = list(error.absolute_path)
    where = display_path(path)
    custom = error.schema.get("x-messages", {}).get(error.validator) if isinstance(
        error.schema, dict) else None
    if error.validator == "additionalProperties":
        _tell_unknown_keys(error, where, custom, problems)
    elif _is_property_name(error):
        line = _line_of_key(doc, path, error.instance)
        message = custom or f"key {error.instance!r} is not allowed here"
        problems.error(line, _fill(message, error.instance, where))
    elif error.validator == "required":
        _tell_missing(error, doc, path, where, problems)
    else:
        _tell_value(error, doc, path, where, custom, problems)


def _tell_unknown_keys(error: ValidationError, where: str, custom: str | None,
                       problems: ProblemList) -> None:
    instance = error.instance
    allowed = list(error.schema.get("properties", {}))
    for key in instance:
        if key in allowed:
            continue
        line = instance.line_of(key) if isinstance(instance, YamlMap) else None
        message = _fill(custom or "unknown key {key}", key, where)
        if where and not custom:
            message += f" in {where}"
        problems.error(line, message, did_you_mean(key, allowed))


def _tell_missing(error: ValidationError, doc: Any, path: list[Any], where: str,
                  problems: ProblemList) -> None:
    instance = error.instance
    line = _line_of(doc, path)
    for key in error.validator_value:
        if isinstance(instance, dict) and key not in instance:
            problems.error(line, f"{where or 'the recipe'} is missing {key!r}")


def _tell_value(error: ValidationError, doc: Any, path: list[Any], where: str,
                custom: str | None, problems: ProblemList) -> None:
    line = _line_of(doc, path)
    suggestion = None
    if custom:
        message = _fill(custom, error.instance, where)
    elif error.validator == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        message = f"{where} must be {wanted}, not {json_type(error.instance)}"
    elif error.validator == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        message = f"{where}: {error.instance!r} is not one of {allowed}"
        suggestion = did_you_mean(error.instance, error.validator_value)
    else:
        message = f"{where}: {error.message}" if where else error.message
    if custom and where and where not in message:
        message = f"{where}: {message}"
    problems.error(line, message, suggestion)


def _is_property_name(error: ValidationError) -> bool:
    return "propertyNames" in error.relative_schema_path


def _fill(message: str, value: Any, where: str) -> str:
    # Plain replace, not str.format: the messages quote YAML with braces in it.
    shown = repr(value) if not isinstance(value, dict | list) else json_type(value)
    return message.replace("{value}", shown).replace("{key}", shown).replace("{where}", where)


def display_path(path: Iterable[Any]) -> str:
    """["steps", 0, "if"] -> "steps[0].if"."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), _JSON_TYPES.get(type(value).__mro__[1], "value"))


def _line_of(doc: Any, path: list[Any]) -> int | None:
    """The line of the key (or item) at `path`; the document's own line for the root."""
    node, line = doc, getattr(doc, "line", None)
    for part in path:
        if not isinstance(node, YamlMap | YamlSeq):
            break
        line = node.line_of(part)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    return line


def _line_of_key(doc: Any, path: list[Any], key: Any) -> int | None:
    node = doc
    for part in path:
        node = node[part]
    return node.line_of(key) if isinstance(node, YamlMap) else _line_of(doc, path)
