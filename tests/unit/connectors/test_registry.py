"""Connector registry: lazy built-ins, entry points, run-time registration, typed failures."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from connectors import registry
from connectors.base import Connection, Connector
from hub.errors import ConfigError

PLUGIN = """
from connectors.base import Connector


class AcmeBillingConnector(Connector):
    name = "acmebilling"

    def verify(self, request):
        return None

    def parse(self, request):
        return []

    def normalise(self, stored):
        return []
"""


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    (tmp_path / "acme_plugin.py").write_text(PLUGIN)
    (tmp_path / "needs_sdk.py").write_text("import no_such_vendor_sdk_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def with_entry_points(monkeypatch, *entries: tuple[str, str]):
    points = [EntryPoint(name, value, registry.ENTRY_POINT_GROUP) for name, value in entries]
    monkeypatch.setattr(
        registry, "entry_points", lambda group: points if group == registry.ENTRY_POINT_GROUP else []
    )
    registry.reset()


def test_builtins_are_available_without_importing_them():
    assert registry.available() == ["chargebee", "quickbooks", "salesforce", "stripe"]


@pytest.mark.parametrize("name", ["stripe", "chargebee", "quickbooks", "salesforce"])
def test_builtin_classes_load_by_name(name):
    cls = registry.get_connector_class(name)
    assert issubclass(cls, Connector) and cls.name == name
    assert registry.get_connector_class(name) is cls


def test_unknown_name_is_config_error():
    with pytest.raises(ConfigError, match="unknown connector 'nope'"):
        registry.get_connector_class("nope")


def test_entry_point_adds_a_connector(plugin_dir, monkeypatch):
    with_entry_points(monkeypatch, ("acmebilling", "acme_plugin:AcmeBillingConnector"))
    assert "acmebilling" in registry.available()
    connector = registry.create_connector(Connection("acme-1", "acmebilling", {}))
    assert connector.parse(None) == []


def test_entry_point_cannot_take_over_a_builtin(plugin_dir, monkeypatch):
    with_entry_points(monkeypatch, ("stripe", "acme_plugin:AcmeBillingConnector"))
    assert registry.get_connector_class("stripe").__module__ == "connectors.stripe"


def test_missing_sdk_raises_not_available(plugin_dir, monkeypatch):
    with_entry_points(monkeypatch, ("needs", "needs_sdk:Whatever"))
    with pytest.raises(registry.ConnectorNotAvailable, match="no_such_vendor_sdk_xyz") as caught:
        registry.get_connector_class("needs")
    assert isinstance(caught.value, ConfigError)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no_such_module_at_all:X", "not found"),
        ("acme_plugin:Missing", "does not name a class"),
        ("acme_plugin", "does not name a class"),
        ("pathlib:Path", "not a connectors.base.Connector"),
    ],
)
def test_bad_targets_are_config_errors(plugin_dir, target, message):
    registry.register("broken", target)
    with pytest.raises(ConfigError, match=message):
        registry.get_connector_class("broken")


def test_declared_name_must_match(plugin_dir):
    registry.register("other-name", "acme_plugin:AcmeBillingConnector")
    with pytest.raises(ConfigError, match="declares name"):
        registry.get_connector_class("other-name")


def test_register_a_class_and_reset(plugin_dir):
    from acme_plugin import AcmeBillingConnector

    registry.register("acmebilling", AcmeBillingConnector)
    assert registry.get_connector_class("acmebilling") is AcmeBillingConnector
    registry.reset()
    assert "acmebilling" not in registry.available()


def test_connector_refuses_a_connection_for_another_connector():
    cls = registry.get_connector_class("stripe")
    with pytest.raises(ConfigError):
        cls(Connection("x", "chargebee", {}))


def test_importing_the_package_loads_no_sdk_and_builds_nothing():
    root = Path(__file__).resolve().parents[3]
    code = textwrap.dedent(
        """
        import sys
        import connectors, connectors.registry, connectors.config, connectors.base
        from connectors import registry
        heavy = [m for m in ("stripe", "chargebee", "quickbooks", "simple_salesforce", "jsonschema")
                 if m in sys.modules]
        print(heavy, registry._discovered, registry._loaded)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[] None {}"
