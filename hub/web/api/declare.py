"""One declaration per route: the same Route both parses the request and writes the OpenAPI document.

A route names its roles, its path and query parameters (type, bounds, camelCase name with any
snake_case aliases), its JSON body schema and its responses. The wrapper it puts around the view
refuses what it does not understand before the view runs: an unknown query parameter is a 400
``parameter_unknown`` (with a did-you-mean), a value of the wrong type or out of bounds a 400
``parameter_invalid`` naming the parameter. A filter typo therefore never lists every customer.

Hand-written rather than flask-smorest/spectree: the hub's bodies are already JSON Schemas in
``schemas/api`` (shared with the CLI and the docs), its errors have their own shape, and the
whole mechanism is this file; a library would bring marshmallow or pydantic models to keep in
step with those schemas.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, request

from hub.errors import InvalidInput
from hub.services.payloads import validate
from hub.web.context import json_body, require

MAX_INTEGER = 2**63 - 1  # what PostgreSQL's bigint holds: ids and offsets beyond it are refused
_INTEGER = re.compile(r"^[+-]?\d{1,19}$")
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


class ParameterUnknown(InvalidInput):
    code = "parameter_unknown"


class ParameterInvalid(InvalidInput):
    code = "parameter_invalid"


@dataclass(frozen=True)
class Param:
    """One path or query parameter; ``prefix`` params take any key after it (customFields.<key>)."""

    name: str
    kind: str = "string"  # string | integer | boolean | datetime
    description: str = ""
    aliases: tuple[str, ...] = ()
    enum: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    max_length: int = 200
    default: Any = None
    prefix: bool = False
    slashes: bool = False  # a path parameter that may contain "/" (external:{externalId})

    def parse(self, raw: str, given_as: str) -> Any:
        if "\x00" in raw:
            raise ParameterInvalid(f"{given_as} contains a NUL character", details={"parameter": given_as})
        parser = {"integer": self._integer, "boolean": self._boolean, "datetime": self._datetime}
        return parser.get(self.kind, self._string)(raw, given_as)

    def _string(self, raw: str, given_as: str) -> str:
        if len(raw) > self.max_length:
            raise self._invalid(given_as, f"is longer than {self.max_length} characters")
        if self.enum is not None and raw not in self.enum:
            raise self._invalid(given_as, f"must be one of {', '.join(self.enum)}")
        return raw

    def _integer(self, raw: str, given_as: str) -> int:
        if not _INTEGER.match(raw.strip()):
            raise self._invalid(given_as, "must be an integer")
        value = int(raw)
        low = self.minimum if self.minimum is not None else -MAX_INTEGER - 1
        high = self.maximum if self.maximum is not None else MAX_INTEGER
        if not low <= value <= high:
            raise self._invalid(given_as, f"must be between {low} and {high}")
        return value

    def _boolean(self, raw: str, given_as: str) -> bool:
        lowered = raw.strip().lower()
        if lowered not in _TRUE | _FALSE:
            raise self._invalid(given_as, "must be true or false")
        return lowered in _TRUE

    def _datetime(self, raw: str, given_as: str) -> datetime:
        try:
            parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError as exc:
            raise self._invalid(given_as, "must be an RFC 3339 time such as 2026-11-20T16:15:30Z") from exc
        if parsed.tzinfo is None:
            raise self._invalid(given_as, "must carry a time zone (Z or +hh:mm)")
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:  # 0001-01-01T00:00:00+14:00 has no UTC form
            raise self._invalid(given_as, "is out of range") from exc

    def _invalid(self, given_as: str, problem: str) -> ParameterInvalid:
        return ParameterInvalid(f"query parameter {given_as!r} {problem}", details={"parameter": given_as})

    def openapi(self, where: str) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": {"datetime": "string"}.get(self.kind, self.kind)}
        if self.kind == "datetime":
            schema["format"] = "date-time"
        if self.kind == "string":
            schema["maxLength"] = self.max_length
            if self.enum is None:
                schema["pattern"] = "^[^\\u0000]*$"  # NUL is refused
        if self.enum is not None:
            schema["enum"] = list(self.enum)
        if self.kind == "integer":
            schema["minimum"] = self.minimum if self.minimum is not None else -MAX_INTEGER - 1
            schema["maximum"] = self.maximum if self.maximum is not None else MAX_INTEGER
        if self.default is not None:
            schema["default"] = self.default
        also = f" (also accepted: {', '.join(self.aliases)})" if self.aliases else ""
        described = self.description + also
        name = f"{self.name}{{key}}" if self.prefix else self.name
        item = {"name": name, "in": where, "required": where == "path", "schema": schema}
        return {**item, "description": described} if described else item


def paging(default_limit: int = 50, max_limit: int = 500) -> tuple[Param, Param]:
    return (Param("offset", "integer", "Rows to skip", minimum=0, default=0),
            Param("limit", "integer", "Rows to return", minimum=1, maximum=max_limit, default=default_limit))


@dataclass(frozen=True)
class Reply:
    """One documented response: its schema (JSON), or another content type (text/csv).

    ``links`` name the operations this answer leads to (OpenAPI links), each as
    ``{name: (operationId, {parameter: runtime expression})}``: a created import leads to its
    progress, a queued replay job to its cancel. Clients and schemathesis' stateful tests follow
    them with the real ids."""

    description: str
    schema: Mapping[str, Any] | None = None
    content_type: str = "application/json"
    links: Mapping[str, tuple[str, Mapping[str, str]]] = field(default_factory=dict)


BY_ID = {"id": "$response.body#/id"}  # a link's parameters: the answer's own id


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # OpenAPI form: /customers/{id}
    summary: str
    tag: str
    roles: tuple[str, ...] | None  # None: no key needed
    replies: Mapping[int, Reply]
    path_params: tuple[Param, ...] = ()
    query: tuple[Param, ...] = ()
    body: str | None = None  # a schema under schemas/
    body_aliases: Mapping[str, str] = field(default_factory=dict)  # snake_case → camelCase
    body_optional: bool = False
    form: Mapping[str, Any] | None = None  # a multipart body the view reads itself (documented only)
    errors: tuple[int, ...] = ()

    @property
    def operation_id(self) -> str:
        return f"{self.method}_{self.path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}"


class Api:
    """The routes of one API surface, registered on its blueprint as they are declared."""

    def __init__(self, blueprint: Blueprint) -> None:
        self.blueprint = blueprint
        self.routes: list[Route] = []

    def route(self, route: Route) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(view)
            def parsed(**path_values: str) -> Any:
                kwargs = _path_values(route, path_values)
                if route.query:
                    kwargs["query"] = parse_query(route.query, request.args)
                else:
                    parse_query((), request.args)  # nothing is accepted: say so
                if route.body:
                    kwargs["body"] = _body(route)
                return view(**kwargs)

            guarded = require(*route.roles)(parsed) if route.roles else parsed
            flask_path = re.sub(r"\{(\w+)\}", lambda m: f"<{_converter(route, m[1])}{m[1]}>", route.path)
            self.blueprint.add_url_rule(flask_path, view.__name__, guarded, methods=[route.method.upper()])
            self.routes.append(route)
            return guarded

        return decorator


def _converter(route: Route, name: str) -> str:
    param = next((p for p in route.path_params if p.name == name), None)
    return "path:" if param is not None and param.slashes else ""


def _path_values(route: Route, values: Mapping[str, str]) -> dict[str, Any]:
    declared = {p.name: p for p in route.path_params}
    return {name: declared[name].parse(raw, name) if name in declared else raw
            for name, raw in values.items()}


def parse_query(params: tuple[Param, ...], args: Any) -> dict[str, Any]:
    """Declared values by camelCase name (prefix params as a dict); unknown names are refused."""
    by_name = {name: p for p in params if not p.prefix for name in (p.name, *p.aliases)}
    prefixes = [p for p in params if p.prefix]
    values: dict[str, Any] = {p.name: ({} if p.prefix else p.default) for p in params}
    for given in args:
        raw_values = args.getlist(given)
        if len(raw_values) > 1:
            raise ParameterInvalid(f"query parameter {given!r} is given more than once",
                                   details={"parameter": given})
        param = by_name.get(given)
        if param is not None:
            values[param.name] = param.parse(raw_values[0], given)
            continue
        prefix = next((p for p in prefixes if given.startswith(p.name) and len(given) > len(p.name)), None)
        if prefix is None:
            raise _unknown(given, [*by_name, *(f"{p.name}<key>" for p in prefixes)])
        key = given[len(prefix.name):]
        if len(key) > 100 or "\x00" in key:
            raise ParameterInvalid(f"query parameter {given!r} has an invalid key",
                                   details={"parameter": given})
        values[prefix.name][key] = prefix.parse(raw_values[0], given)
    return values


def _unknown(given: str, known: list[str]) -> ParameterUnknown:
    guess = difflib.get_close_matches(given, known, n=1, cutoff=0.6) or difflib.get_close_matches(
        _camel(given), known, n=1, cutoff=0.6)
    hint = f"; did you mean {guess[0]!r}?" if guess else (f"; known: {', '.join(sorted(known))}" if known else
                                                           "; this route takes no query parameters")
    return ParameterUnknown(f"unknown query parameter {given!r}{hint}",
                            details={"parameter": given, "known": sorted(known)})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _body(route: Route) -> Any:
    if route.body_optional and not request.get_data(cache=True):
        return {}
    body = json_body()
    if isinstance(body, dict) and route.body_aliases:
        body = {route.body_aliases.get(k, k): v for k, v in body.items()}
    return validate(str(route.body), body)
