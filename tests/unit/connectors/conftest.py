"""Connector test kit: the shipped harnesses (tests/unit/connectors/harnesses.py) as fixtures,
the per-vendor parametrisation, and helpers for test modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.register_assert_rewrite("connectors.testing")  # the suite's failures explained like a test's

from connectors import registry  # noqa: E402
from connectors.testing import normalise_all, stored, webhook  # noqa: E402
from tests.unit.connectors.harnesses import (  # noqa: E402
    FIXTURES,
    HARNESSES,
    ChargebeeHarness,
    Harness,
    QuickBooksHarness,
    SalesforceHarness,
    StripeHarness,
    load_json,
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise per-vendor tests over every shipped vendor and fixture (the standard suite
    parametrises itself: ConnectorSuite.pytest_generate_tests)."""
    if "vendor_fixture" in metafunc.fixturenames:
        params = [(h.name, path) for h in HARNESSES.values() for path in h.fixture_paths()]
        metafunc.parametrize("vendor_fixture", params, ids=[f"{v}/{p.name}" for v, p in params])
    if "vendor" in metafunc.fixturenames:
        metafunc.parametrize("vendor", sorted(HARNESSES))


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    registry.reset()
    yield
    registry.reset()


@pytest.fixture
def harnesses() -> dict[str, Harness]:
    return HARNESSES


@pytest.fixture
def stripe_kit() -> StripeHarness:
    return HARNESSES["stripe"]  # type: ignore[return-value]


@pytest.fixture
def chargebee_kit() -> ChargebeeHarness:
    return HARNESSES["chargebee"]  # type: ignore[return-value]


@pytest.fixture
def quickbooks_kit() -> QuickBooksHarness:
    return HARNESSES["quickbooks"]  # type: ignore[return-value]


@pytest.fixture
def salesforce_kit() -> SalesforceHarness:
    return HARNESSES["salesforce"]  # type: ignore[return-value]


class Kit:
    """Helpers handed to tests (test modules cannot import conftest under importlib mode)."""

    webhook = staticmethod(webhook)
    stored = staticmethod(stored)
    load_json = staticmethod(load_json)
    fixtures = FIXTURES

    @staticmethod
    def body(vendor: str, name: str) -> bytes:
        return (FIXTURES / vendor / name).read_bytes()

    normalise_all = staticmethod(normalise_all)


@pytest.fixture
def kit() -> type[Kit]:
    return Kit
