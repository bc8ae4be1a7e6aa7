"""Helpers for the recipe engine's tests: build events, load recipe text, a small catalog."""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hub.recipes import InMemoryCatalog, LoadOptions, LoadResult, Recipe, check_recipe_text

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "recipes"

BASE_EVENT: dict[str, Any] = {
    "id": "evt-1",
    "connection": "stripe",
    "connector": "stripe",
    "type": "customer.payment_method.changed",
    "vendor_event_id": "evt_1",
    "occurred_at": "2026-11-02T09:14:03Z",
    "customer": {"external_id": "cus_1", "payment_method": "card", "currency": "usd",
                 "custom_fields": {}},
    "changes": ["customer.payment_method"],
    "raw_ref": "inbox:1",
}

# The workflows and users the shipped recipes name (the demo data creates them).
SHIPPED_CATALOG = InMemoryCatalog(
    workflows={"Card payers": "dp_card", "Direct debit": "dp_dd", "Standard": "dp_std",
               "Bank transfer and check": "dp_bt", "Net terms": "dp_net",
               "Bad payers": "dp_bad"},
    users=["ae-team@example.com", "collections@example.com"],
)


def make_event(**changes: Any) -> dict[str, Any]:
    """BASE_EVENT with top-level keys replaced; `customer` is merged, not replaced."""
    event = copy.deepcopy(BASE_EVENT)
    customer = changes.pop("customer", None)
    event.update(changes)
    if customer is not None:
        event["customer"].update(customer)
    return event


def recipe_yaml(body: str, *, name: str = "test-recipe", connector: str = "stripe",
                events: str = "[customer.created, customer.payment_method.changed]") -> str:
    """A recipe around `body` (YAML for steps and friends, written at column 0)."""
    head = f"name: {name}\ntrigger:\n  connector: {connector}\n  events: {events}\n"
    return head + textwrap.dedent(body).lstrip("\n")


def check(text: str, **options: Any) -> LoadResult:
    return check_recipe_text(textwrap.dedent(text).lstrip("\n"), file="test.yaml",
                             options=LoadOptions(**options))


def load(text: str, **options: Any) -> Recipe:
    result = check(text, **options)
    assert result.recipe is not None, "\n".join(str(p) for p in result.problems)
    return result.recipe


# Test modules cannot import this file under --import-mode=importlib: helpers go out as fixtures.


@pytest.fixture
def event() -> Callable[..., dict[str, Any]]:
    return make_event


@pytest.fixture
def recipe() -> Callable[..., str]:
    return recipe_yaml


@pytest.fixture(name="check")
def check_fixture() -> Callable[..., LoadResult]:
    return check


@pytest.fixture(name="load")
def load_fixture() -> Callable[..., Recipe]:
    return load


@pytest.fixture
def shipped_catalog() -> InMemoryCatalog:
    return SHIPPED_CATALOG


@pytest.fixture
def shipped_dir() -> Path:
    return SHIPPED


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
