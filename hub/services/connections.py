"""The configured connections and one connector instance per connection, built on first use."""

from __future__ import annotations

import threading
from typing import Any

from connectors import registry
from connectors.base import Connection, Connector
from connectors.config import load_connections
from hub.config import Settings
from hub.errors import NotFound


class Connections:
    def __init__(self, settings: Settings, preset: dict[str, Connection] | None = None) -> None:
        self._settings = settings
        self._connections = preset
        self._instances: dict[str, Connector] = {}
        self._lock = threading.Lock()

    def all(self) -> dict[str, Connection]:
        if self._connections is None:
            env = {**self._settings.process_env, **self._settings.env}
            self._connections = load_connections(env, self._settings.connections_file)
        return self._connections

    def connector(self, name: str) -> Connector:
        """The connector serving this connection; NotFound (404) for an unknown name."""
        with self._lock:
            if name not in self._instances:
                connection = self.all().get(name)
                if connection is None:
                    raise NotFound(f"no connection named {name!r}", code="unknown_connection")
                self._instances[name] = registry.create_connector(connection)
            return self._instances[name]

    def of_connector(self, connector_name: str) -> list[str]:
        return sorted(n for n, c in self.all().items() if c.connector == connector_name)

    def describe(self) -> list[dict[str, Any]]:
        return [{"name": c.name, "connector": c.connector, "config": c.redacted_config()}
                for c in self.all().values()]
