"""The OpenAPI document lists exactly the routes the app serves under /api/v1."""

from __future__ import annotations

import re


def _routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule[len("/api/v1"):])
        path = path.replace("{ref}", "{id}").replace("{workflow_id}", "{id}")
        path = re.sub(r"\{[a-z_]*id\}", "{id}", path)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((method.lower(), path))
    return found


def test_openapi_matches_routes(app, client):  # type: ignore[no-untyped-def]
    doc = client.get("/api/v1/openapi.json").json
    documented = {(m, re.sub(r"\{[a-z_]*id\}", "{id}", p)) for p, ops in doc["paths"].items() for m in ops}
    assert documented == _routes(app)
    assert doc["openapi"].startswith("3.")


def test_openapi_is_public_and_request_schemas_are_inlined(client):  # type: ignore[no-untyped-def]
    doc = client.get("/api/v1/openapi.json").json
    put = doc["paths"]["/customers/{id}"]["put"]
    assert "dunningPlanId" in put["requestBody"]["content"]["application/json"]["schema"]["properties"]
