"""The standard connector test suite: one class gives a connector the contract tests the shipped
connectors pass (signatures, forgeries, normalised events, redaction, hostile payloads).

A plugin installed through the ``hub.connectors`` entry point runs it on itself (needs pytest)::

    from connectors.testing import ConnectorSuite, Harness

    class AcmeHarness(Harness):
        name = "acme"                      # the connector's name
        fixtures_dir = Path(__file__).parent / "fixtures"
        config = {"webhook_secret": "test-secret"}
        ...                                # sign(), wrong_connection(), the hostile-payload kit

    class TestAcmeContract(ConnectorSuite):
        harnesses = (AcmeHarness(),)

Declaring the harness in the ``hub.connectors.testing`` entry-point group, under the connector's
name, lets the hub's own tests run the suite on every installed plugin too.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from connectors import registry
from connectors.testing.harness import (
    EPOCH,
    FORGERY_CASES,
    Harness,
    normalise_all,
    rfc3339,
    stored,
    unix_millis,
    unix_seconds,
    webhook,
)
from connectors.testing.suite import ConnectorSuite, assert_refused

HARNESS_ENTRY_POINT_GROUP = "hub.connectors.testing"

__all__ = [
    "EPOCH",
    "FORGERY_CASES",
    "HARNESS_ENTRY_POINT_GROUP",
    "ConnectorSuite",
    "Harness",
    "assert_refused",
    "installed_plugins",
    "normalise_all",
    "rfc3339",
    "stored",
    "unix_millis",
    "unix_seconds",
    "webhook",
]


def installed_plugins() -> dict[str, Harness | None]:
    """Every connector a plugin adds through ``hub.connectors`` → the harness it declares in
    ``hub.connectors.testing`` (None when it declares none: the suite cannot drive it)."""
    declared = {entry.name: entry for entry in entry_points(group=HARNESS_ENTRY_POINT_GROUP)}
    plugins: dict[str, Harness | None] = {}
    for entry in entry_points(group=registry.ENTRY_POINT_GROUP):
        if entry.name in registry.BUILTIN_CONNECTORS:
            continue  # the registry ignores a plugin that shadows a built-in
        harness = declared.get(entry.name)
        plugins[entry.name] = harness.load()() if harness is not None else None
    return plugins
