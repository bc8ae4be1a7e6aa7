"""Connector registry: names → import strings, loaded lazily, plus the ``hub.connectors`` entry points."""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points

from connectors.base import Connection, Connector, CredentialStore
from hub.errors import ConfigError

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "hub.connectors"

BUILTIN_CONNECTORS: dict[str, str] = {
    "stripe": "connectors.stripe:StripeConnector",
    "chargebee": "connectors.chargebee:ChargebeeConnector",
    "quickbooks": "connectors.quickbooks:QuickBooksConnector",
    "salesforce": "connectors.salesforce:SalesforceConnector",
}

Target = str | type[Connector]

_discovered: dict[str, Target] | None = None  # built-ins + entry points, read on first use
_registered: dict[str, Target] = {}  # added at run time (tests, app wiring)
_loaded: dict[str, type[Connector]] = {}


class UnknownConnector(ConfigError):
    code = "unknown_connector"


class ConnectorNotAvailable(ConfigError):
    """The connector exists but its vendor SDK (or another dependency) is not installed."""

    code = "connector_not_available"


def available() -> list[str]:
    """Every connector name the hub knows, without importing any of them."""
    return sorted(_targets())


def get_connector_class(name: str) -> type[Connector]:
    if name in _loaded:
        return _loaded[name]
    target = _targets().get(name)
    if target is None:
        raise UnknownConnector(f"unknown connector {name!r}; available: {', '.join(available())}")
    cls = _import(name, target) if isinstance(target, str) else target
    _check(name, cls)
    _loaded[name] = cls
    return cls


def create_connector(connection: Connection, credentials: CredentialStore | None = None) -> Connector:
    """A connector instance serving one connection (rotating credentials kept in ``credentials``)."""
    connector = get_connector_class(connection.connector)(connection)
    if credentials is not None:
        connector.credentials = credentials
    return connector


def register(name: str, target: Target) -> None:
    """Add or replace a connector at run time (an import string or a Connector subclass)."""
    _registered[name] = target
    _loaded.pop(name, None)


def reset() -> None:
    """Forget everything loaded or registered, so the next call rediscovers (tests)."""
    global _discovered
    _discovered = None
    _registered.clear()
    _loaded.clear()


def _targets() -> dict[str, Target]:
    global _discovered
    if _discovered is None:
        _discovered = {**_entry_point_targets(), **BUILTIN_CONNECTORS}
    return {**_discovered, **_registered}


def _entry_point_targets() -> dict[str, Target]:
    found: dict[str, Target] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in BUILTIN_CONNECTORS:
            # Built-ins win: a plugin must not silently take over the "stripe" webhook.
            logger.warning("entry point %r shadows a built-in connector; ignored", entry.name)
            continue
        found[entry.name] = entry.value
    return found


def _import(name: str, target: str) -> type[Connector]:
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(f"{missing}."):
            raise ConfigError(f"connector {name!r}: module {module_name!r} not found") from exc
        raise ConnectorNotAvailable(
            f"connector {name!r} is not available: the package {exc.name!r} is not installed"
        ) from exc
    cls = getattr(module, attribute, None) if attribute else None
    if cls is None:
        raise ConfigError(f"connector {name!r}: {target!r} does not name a class")
    return cls


def _check(name: str, cls: object) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConfigError(f"connector {name!r} is not a connectors.base.Connector subclass")
    if getattr(cls, "name", None) != name:
        raise ConfigError(f"connector {name!r} declares name {getattr(cls, 'name', None)!r}")
