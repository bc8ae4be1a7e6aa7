"""The OpenAPI document at /api/v1/openapi.json, written from the routes' own declarations."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from flask import Blueprint

from hub.services.payloads import SCHEMAS
from hub.web.api import surfaces
from hub.web.api.declare import Api, Reply, Route
from hub.web.api.shapes import COMPONENTS, ref

bp = Blueprint("openapi", __name__)
api = Api(bp)

ERROR_DESCRIPTIONS = {
    400: "A parameter or the body cannot be read (parameter_unknown, parameter_invalid, malformed_body)",
    401: "No API key, or an unknown one",
    403: "The key's role may not do this",
    404: "No such object",
    409: "Conflicts with the current state",
    413: "The body is larger than the limit",
    415: "Wrong content type",
    422: "Well-formed, but not valid (validation_failed, with details)",
    429: "Too many of these at once in this process; retry after Retry-After seconds",
    503: "The database is unavailable, or a dependency is; retry",
}
AUTHENTICATED_ERRORS = (400, 401, 403)


def _operation(route: Route) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": route.summary, "tags": [route.tag], "operationId": route.operation_id}
    params = [p.openapi("path") for p in route.path_params]
    params += [p.openapi("query") for p in route.query]
    if params:
        op["parameters"] = params
    if route.form:
        form = {"multipart/form-data": {"schema": dict(route.form)}}
        op["requestBody"] = {"required": True, "content": form}
    if route.body:
        schema = _body_schema(route.body)
        op["requestBody"] = {"required": not route.body_optional,
                             "content": {"application/json": {"schema": schema}}}
    responses: dict[str, Any] = {str(status): _reply(reply)
                                 for status, reply in sorted(route.replies.items())}
    errors = set(route.errors) | ({400, 401, 403} if route.roles else {400})
    if route.body:
        errors |= {413, 422}
    for status in sorted(errors | {503}):
        responses.setdefault(str(status), {"description": ERROR_DESCRIPTIONS[status],
                                           "content": {"application/json": {"schema": ref("Error")}}})
    op["responses"] = responses
    op["security"] = [{"bearer": []}] if route.roles else []
    return op


def _reply(reply: Reply) -> dict[str, Any]:
    if reply.content_type != "application/json":
        answer = {"description": reply.description,
                  "content": {reply.content_type: {"schema": {"type": "string"}}}}
    else:
        answer = {"description": reply.description,
                  "content": {"application/json": {"schema": dict(reply.schema or {"type": "object"})}}}
    if reply.links:
        answer["links"] = {name: {"operationId": operation, "parameters": dict(parameters)}
                           for name, (operation, parameters) in reply.links.items()}
    return answer


@cache
def _body_schema(name: str) -> dict[str, Any]:
    schema = json.loads((SCHEMAS / name).read_text())
    schema.pop("$schema", None)
    schema.pop("$id", None)
    return schema


def build_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for declared in [*(module.api for module in surfaces.resources()), api]:
        for route in declared.routes:
            paths.setdefault(route.path, {})[route.method] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "The hub API", "version": "1.0.0",
                 "description": "camelCase throughout; snake_case spellings are accepted as aliases. "
                                "Unknown query parameters are refused (parameter_unknown)."},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": COMPONENTS,
        },
    }


@api.route(Route("get", "/openapi.json", "This document", "meta", roles=None,
                 replies={200: Reply("The OpenAPI 3.1 document", {"type": "object"})}))
def openapi_document():
    return build_document()
