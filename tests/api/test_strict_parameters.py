"""Every route says no to what it does not understand: unknown query parameters, wrong types,
values out of bounds, NUL characters, repeated parameters, ids beyond 64 bits (400, naming it)."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from hub.services.demo import load_demo


@pytest.fixture
def demo(hub):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        load_demo(uow.session)
        uow.commit()
    return hub


def error_of(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 400, (response.status_code, response.data)
    return response.json["error"]


def test_a_misspelt_filter_is_refused_with_a_suggestion_instead_of_listing_everyone(client, admin, demo):  # type: ignore[no-untyped-def]
    error = error_of(client.get("/api/v1/customers?acountManager=ann@example.com", headers=admin))
    assert error["code"] == "parameter_unknown"
    assert "'acountManager'" in error["message"] and "did you mean 'accountManager'" in error["message"]
    assert error["details"]["parameter"] == "acountManager"
    export = client.get("/api/v1/customers/export.csv?acountManager=x", headers=admin)
    assert export.status_code == 400 and export.json["error"]["code"] == "parameter_unknown"


def test_snake_case_spellings_are_accepted_as_aliases(client, admin, demo):  # type: ignore[no-untyped-def]
    camel = client.get("/api/v1/customers?accountManager=nobody@example.com", headers=admin).json
    snake = client.get("/api/v1/customers?account_manager=nobody@example.com", headers=admin).json
    everyone = client.get("/api/v1/customers", headers=admin).json
    assert camel["total"] == snake["total"] == 0 < everyone["total"]


@pytest.mark.parametrize(("url", "parameter"), [
    ("/api/v1/events?status=bogus", "status"),
    ("/api/v1/customers?offset=99999999999999999999", "offset"),
    ("/api/v1/customers?offset=-1", "offset"),
    ("/api/v1/customers?limit=0", "limit"),
    ("/api/v1/customers?limit=abc", "limit"),
    ("/api/v1/customers?unassigned=maybe", "unassigned"),
    ("/api/v1/events?since=0001-01-01T00:00:00%2B14:00", "since"),
    ("/api/v1/events?since=yesterday", "since"),
    ("/api/v1/events?until=2026-11-20T10:00:00", "until"),
    ("/api/v1/customers?customFields.x%00=1", "customFields.x\x00"),
    ("/api/v1/customers?q=a%00b", "q"),
    ("/api/v1/customers?q=a&q=b", "q"),
    ("/api/v1/events/99999999999999999999", "id"),
    ("/api/v1/imports/abc", "id"),
    ("/api/v1/customers?q=" + "x" * 201, "q"),
])
def test_invalid_values_are_a_400_naming_the_parameter(client, admin, url, parameter):  # type: ignore[no-untyped-def]
    error = error_of(client.get(url, headers=admin))
    assert error["code"] == "parameter_invalid"
    assert error["details"]["parameter"] == parameter


def test_routes_without_query_parameters_refuse_any(client, admin):  # type: ignore[no-untyped-def]
    error = error_of(client.get("/api/v1/workflows?name=x", headers=admin))
    assert error["code"] == "parameter_unknown" and "takes no query parameters" in error["message"]


def test_the_openapi_document_is_valid_and_declares_every_parameter(client):  # type: ignore[no-untyped-def]
    document = client.get("/api/v1/openapi.json").json
    validate(document)
    listing = document["paths"]["/customers"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {"accountManager", "dunningPlanId", "workflow", "q", "unassigned", "offset", "limit",
            "customFields.{key}"} <= names
    offset = next(p for p in listing["parameters"] if p["name"] == "offset")
    assert offset["schema"]["maximum"] == 2**63 - 1
    assert "200" in listing["responses"] and "400" in listing["responses"] and "401" in listing["responses"]
    created = document["paths"]["/workflows"]["post"]
    assert "201" in created["responses"] and "200" not in created["responses"]
    assert created["requestBody"]["content"]["application/json"]["schema"]["required"] == ["name"]
    assert "multipart/form-data" in document["paths"]["/imports"]["post"]["requestBody"]["content"]
