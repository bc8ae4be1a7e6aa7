"""The OpenAPI document at /api/v1/openapi.json; a test keeps it in step with the routes."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint

from hub.services.payloads import SCHEMAS

bp = Blueprint("openapi", __name__)

Operation = tuple[str, str, str, str, "str | None"]  # method, path, summary, tag, body schema

OPERATIONS: list[Operation] = [("get", "/openapi.json", "This document", "meta", None)]


def _operation(method: str, path: str, summary: str, tag: str, schema: str | None) -> dict:
    op: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "operationId": f"{method}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "responses": {
            "200": {"description": "OK"},
            "default": {"description": "Error",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        },
    }
    params = [p[1:-1] for p in path.split("/") if p.startswith("{")]
    if params:
        op["parameters"] = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                            for p in params]
    if schema:
        body = json.loads((SCHEMAS / schema).read_text())
        body.pop("$schema", None)
        body.pop("$id", None)
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if path != "/openapi.json":
        op["security"] = [{"bearer": []}]
    return op


def build_document() -> dict[str, Any]:
    from hub.web.api import surfaces

    paths: dict[str, dict[str, Any]] = {}
    operations = [op for module in surfaces() for op in module.OPERATIONS]
    for method, path, summary, tag, schema in operations:
        paths.setdefault(path, {})[method] = _operation(method, path, summary, tag, schema)
    return {
        "openapi": "3.1.0",
        "info": {"title": "The hub API", "version": "1.0.0"},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "object", "required": ["code", "message"],
                                             "properties": {"code": {"type": "string"},
                                                            "message": {"type": "string"},
                                                            "details": {}}}},
                }
            },
        },
    }


@bp.get("/openapi.json")
def openapi_document():
    return build_document()
