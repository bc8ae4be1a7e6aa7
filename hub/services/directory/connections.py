"""The configured connections and one connector instance per connection, built on first use.

A broken connection (invalid settings, a connector whose SDK is missing) is kept apart: its own
webhook and events fail with ``ConnectionUnavailable`` while every other connection works, and
``health()`` / ``report()`` say what is wrong (names and fields only, never values).
"""

from __future__ import annotations

import logging
import threading

from connectors import registry
from connectors.base import Connection, Connector, CredentialStore
from connectors.config import ConnectionReport, read_connections, rotating_fields
from hub.config import Settings
from hub.errors import ConfigError, NotFound
from hub.services.directory.gates import FetchGate

log = logging.getLogger(__name__)

OK = "ok"
INVALID = "invalid"


class ConnectionUnavailable(ConfigError):
    """The connection exists but its configuration is broken: fix it, then replay."""

    code = "connection_unavailable"
    http_status = 503


def _break_rotating_without_key(report: ConnectionReport) -> None:
    """Credentials the vendor rotates are kept encrypted: without a key they would be lost."""
    for connection in list(report.connections.values()):
        rotating = [f for f in rotating_fields(connection.connector) if connection.config.get(f)]
        if rotating:
            report.break_connection(connection.name, connection.connector, [
                f"{connection.name}.{rotating[0]}: HUB_SECRET_KEY must be set to keep this rotating "
                "credential (encrypted in the database)"])


class Connections:
    def __init__(
        self,
        settings: Settings,
        preset: dict[str, Connection] | None = None,
        credentials: CredentialStore | None = None,
    ) -> None:
        self._settings = settings
        self._report = ConnectionReport(connections=dict(preset)) if preset is not None else None
        self._credentials = credentials
        self._instances: dict[str, Connector] = {}
        self._gates: dict[str, FetchGate] = {}
        self._lock = threading.Lock()

    def report(self) -> ConnectionReport:
        """The configuration as read once per process: usable and broken connections."""
        with self._lock:
            return self._read()

    def _read(self) -> ConnectionReport:
        if self._report is None:
            env = {**self._settings.process_env, **self._settings.env}
            self._report = read_connections(env, self._settings.connections_file)
            if not self._settings.secret_key:
                _break_rotating_without_key(self._report)
            for broken in self._report.broken.values():
                log.error("connection %s is unusable: %s", broken.name, "; ".join(broken.problems))
            for problem in self._report.problems:
                log.error("connections file: %s", problem)
        return self._report

    def all(self) -> dict[str, Connection]:
        """The usable connections (the broken ones are in ``report().broken``)."""
        return self.report().connections

    def connectors_by_name(self) -> dict[str, str]:
        """Connection name → connector name, broken connections included when their connector is known.

        Recipes name connections; a recipe for a connection that is only misconfigured is not
        wrong, so validation must still know the name.
        """
        report = self.report()
        named = {n: b.connector for n, b in report.broken.items() if b.connector}
        return {**named, **{n: c.connector for n, c in report.connections.items()}}

    def connector(self, name: str) -> Connector:
        """The connector serving this connection.

        NotFound (404) for an unknown name; ConnectionUnavailable (503) for a broken one.
        """
        with self._lock:
            if name in self._instances:
                return self._instances[name]
            report = self._read()
            if name in report.broken:
                raise ConnectionUnavailable(f"connection {name!r} is misconfigured; see /healthz")
            connection = report.connections.get(name)
            if connection is None:
                raise NotFound(f"no connection named {name!r}", code="unknown_connection")
            try:
                instance = registry.create_connector(connection, credentials=self._credentials)
            except ConfigError as exc:  # the SDK is missing, the class is wrong, ...
                report.break_connection(name, connection.connector, [f"{name}: {exc.message}"])
                log.error("connection %s is unusable: %s", name, exc.message)
                raise ConnectionUnavailable(f"connection {name!r} is misconfigured; see /healthz") from exc
            self._instances[name] = instance
            return instance

    def gate(self, name: str) -> FetchGate:
        """This process's bound on the connection's vendor calls (hub.services.directory.gates)."""
        with self._lock:
            if name not in self._gates:
                self._gates[name] = FetchGate(name, self._settings.fetch_concurrency)
            return self._gates[name]

    def of_connector(self, connector_name: str) -> list[str]:
        return sorted(n for n, c in self.all().items() if c.connector == connector_name)

    def health(self) -> dict[str, str]:
        """Connection name → ok / invalid, for the anonymous /healthz (no problems, no values)."""
        report = self.report()
        states = {name: OK for name in report.connections}
        states.update({name: INVALID for name in report.broken})
        return dict(sorted(states.items()))
