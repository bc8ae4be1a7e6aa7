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


def test_links_lead_to_operations_that_take_those_parameters(client):  # type: ignore[no-untyped-def]
    doc = client.get("/api/v1/openapi.json").json
    operations = {op["operationId"]: op for ops in doc["paths"].values() for op in ops.values()}
    links = [(op["operationId"], link) for op in operations.values()
             for answer in op["responses"].values() for link in answer.get("links", {}).values()]
    assert len(links) >= 8
    for source, link in links:
        target = operations[link["operationId"]]  # a KeyError names a link to nothing
        taken = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
        assert set(link["parameters"]) <= taken, (source, link)
        assert all(v.startswith("$response.body#/") for v in link["parameters"].values())
