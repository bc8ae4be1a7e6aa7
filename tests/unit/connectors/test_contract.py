"""The contract every connector keeps (connectors.testing), run over the shipped connectors."""

from __future__ import annotations

from connectors import registry
from connectors.testing import ConnectorSuite
from tests.unit.connectors.harnesses import HARNESSES


class TestShippedConnectors(ConnectorSuite):
    harnesses = tuple(HARNESSES.values())


def test_every_registered_connector_has_a_harness(harnesses):
    assert set(registry.available()) == set(harnesses)
