"""Connections from HUB_* variables and the connections YAML file, checked against their JSON Schemas.

Each connection is checked on its own: ``read_connections`` returns the usable ones and, beside
them, every broken one with all of its problems, so one bad connection never takes the others
down. No message ever contains a configured value: only connection names, field names and
variable names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from connectors import registry
from connectors.base import Connection, load_schema
from hub.errors import ConfigError

# Default connections are named after their connector; variable → config field.
ENV_FIELDS: dict[str, dict[str, str]] = {
    "stripe": {
        "HUB_STRIPE_WEBHOOK_SECRET": "webhook_secret",
        "HUB_STRIPE_API_KEY": "api_key",
        "HUB_STRIPE_API_BASE": "api_base",
    },
    "chargebee": {
        "HUB_CHARGEBEE_WEBHOOK_USERNAME": "webhook_username",
        "HUB_CHARGEBEE_WEBHOOK_PASSWORD": "webhook_password",
        "HUB_CHARGEBEE_SITE": "site",
        "HUB_CHARGEBEE_API_KEY": "api_key",
        "HUB_CHARGEBEE_API_BASE": "api_base",
    },
    "quickbooks": {
        "HUB_QUICKBOOKS_VERIFIER_TOKEN": "verifier_token",
        "HUB_QUICKBOOKS_REALM_ID": "realm_id",
        "HUB_QUICKBOOKS_CLIENT_ID": "client_id",
        "HUB_QUICKBOOKS_CLIENT_SECRET": "client_secret",
        "HUB_QUICKBOOKS_REFRESH_TOKEN": "refresh_token",
        "HUB_QUICKBOOKS_ENVIRONMENT": "environment",
        "HUB_QUICKBOOKS_API_BASE": "api_base",
        "HUB_QUICKBOOKS_DISCOVERY_URL": "discovery_url",
    },
    "salesforce": {
        "HUB_SALESFORCE_ORGANIZATION_ID": "organization_id",
        "HUB_SALESFORCE_DOMAIN": "domain",
        "HUB_SALESFORCE_INSTANCE_URL": "instance_url",
        "HUB_SALESFORCE_USERNAME": "username",
        "HUB_SALESFORCE_CONSUMER_KEY": "consumer_key",
        "HUB_SALESFORCE_PRIVATE_KEY_FILE": "private_key_file",
        "HUB_SALESFORCE_SESSION_ID": "session_id",
        "HUB_SALESFORCE_PASSWORD": "password",
        "HUB_SALESFORCE_SECURITY_TOKEN": "security_token",
        "HUB_SALESFORCE_MATCH_FIELD": "match_field",
        "HUB_SALESFORCE_API_BASE": "api_base",
    },
}

# A default connection exists only when its webhook credentials are set.
ENV_TRIGGERS: dict[str, tuple[str, ...]] = {
    "stripe": ("HUB_STRIPE_WEBHOOK_SECRET",),
    "chargebee": ("HUB_CHARGEBEE_WEBHOOK_USERNAME", "HUB_CHARGEBEE_WEBHOOK_PASSWORD"),
    "quickbooks": ("HUB_QUICKBOOKS_VERIFIER_TOKEN",),
    "salesforce": ("HUB_SALESFORCE_ORGANIZATION_ID",),
}

# Settings that only adjust a connection; set alone they are not a half-configured connection.
_MODIFIERS = frozenset({"api_base", "discovery_url", "environment", "domain", "match_field"})

CONNECTION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_PLACEHOLDER = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

Raw = dict[str, tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class BrokenConnection:
    """A connection that cannot be used: its name, its connector when known, and why."""

    name: str
    connector: str | None
    problems: tuple[str, ...]


@dataclass
class ConnectionReport:
    """What the configuration gives: usable connections, broken ones, and problems of the file itself."""

    connections: dict[str, Connection] = field(default_factory=dict)
    broken: dict[str, BrokenConnection] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # not tied to one connection (the file)

    def all_problems(self) -> list[str]:
        found = [*self.problems, *(p for b in self.broken.values() for p in b.problems)]
        return list(dict.fromkeys(found))

    def break_connection(self, name: str, connector: str | None, problems: list[str]) -> None:
        """Move a connection to ``broken`` (or add problems to one already there)."""
        self.connections.pop(name, None)
        earlier = self.broken.get(name)
        known = (earlier.problems if earlier else ()) + tuple(problems)
        if connector is None and earlier is not None:
            connector = earlier.connector
        self.broken[name] = BrokenConnection(name, connector, tuple(dict.fromkeys(known)))


def read_connections(env: Mapping[str, str], connections_file: str | None = None) -> ConnectionReport:
    """Every configured connection, each validated on its own; never raises for a bad one."""
    report = ConnectionReport()
    raw: Raw = _connections_from_env(env, report)
    if connections_file:
        _connections_from_file(Path(connections_file), env, raw, report)
    for name, (connector, config) in raw.items():
        problems = _validate(name, connector, config)
        if problems or name in report.broken:
            report.break_connection(name, connector, problems)
        else:
            report.connections[name] = Connection(name, connector, config)
    return report


def load_connections(env: Mapping[str, str], connections_file: str | None = None) -> dict[str, Connection]:
    """Every configured connection by name; ConfigError listing all problems when any is broken."""
    report = read_connections(env, connections_file)
    if report.broken or report.problems:
        raise ConfigError("invalid connector configuration", details=report.all_problems())
    return report.connections


def _connections_from_env(env: Mapping[str, str], report: ConnectionReport) -> Raw:
    raw: Raw = {}
    for connector, fields in ENV_FIELDS.items():
        values = {field: env[var] for var, field in fields.items() if env.get(var)}
        if any(env.get(var) for var in ENV_TRIGGERS[connector]):
            raw[connector] = (connector, values)
            continue
        orphans = [var for var, field in fields.items() if field in values and field not in _MODIFIERS]
        if orphans:
            triggers = " / ".join(ENV_TRIGGERS[connector])
            problem = f"{connector}: {', '.join(orphans)} set but {triggers} missing"
            report.break_connection(connector, connector, [problem])
    return raw


def _connections_from_file(
    path: Path, env: Mapping[str, str], raw: Raw, report: ConnectionReport
) -> None:
    document = _read_yaml(path, report.problems)
    if document is None:
        return
    if not isinstance(document, dict) or not isinstance(document.get("connections"), dict):
        report.problems.append(f"{path}: expected a mapping with a 'connections' mapping")
        return
    report.problems.extend(
        f"{path}: unknown top-level key {key!r}" for key in document if key != "connections")
    for name, entry in document["connections"].items():
        problems: list[str] = []
        parsed = _file_entry(str(name), entry, env, problems)
        if str(name) in raw:
            clash = f"{name}: defined both by HUB_* variables and in {path}"
            report.break_connection(str(name), None, [clash])
            continue
        if parsed is None or problems:
            report.break_connection(str(name), parsed[0] if parsed else None, problems)
        if parsed is not None:
            raw[str(name)] = parsed


def _read_yaml(path: Path, problems: list[str]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(f"{path}: cannot read connections file ({exc.strerror or exc})")
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        # Only the position and the parser's complaint: the offending line may hold a secret.
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(f"{path}: invalid YAML{where}: {getattr(exc, 'problem', None) or 'syntax error'}")
        return None


def _file_entry(
    name: str, entry: Any, env: Mapping[str, str], problems: list[str]
) -> tuple[str, dict[str, Any]] | None:
    if not CONNECTION_NAME.match(name):
        problems.append(f"{name}: connection names are lower-case letters, digits, - and _")
        return None
    if not isinstance(entry, dict):
        problems.append(f"{name}: expected a mapping of settings")
        return None
    connector = entry.get("connector")
    if not isinstance(connector, str) or not connector:
        problems.append(f"{name}.connector: is required")
        return None
    config = {
        str(key): _substitute(value, f"{name}.{key}", env, problems)
        for key, value in entry.items()
        if key != "connector"
    }
    return connector, config


def _substitute(value: Any, where: str, env: Mapping[str, str], problems: list[str]) -> Any:
    """Replace ${VAR} from the env mapping given (never os.environ); $$ is a literal $."""
    if isinstance(value, dict):
        return {k: _substitute(v, f"{where}.{k}", env, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, where, env, problems) for v in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        variable = match.group(1)
        if variable is None:
            return "$"
        if variable not in env:
            problems.append(f"{where}: environment variable {variable} is not set")
            return ""
        return env[variable]

    return _PLACEHOLDER.sub(replace, value)


def _validate(name: str, connector: str, config: dict[str, Any]) -> list[str]:
    schema = _schema_for(name, connector)
    if isinstance(schema, str):
        return [schema]
    from jsonschema import Draft202012Validator  # on first use: keeps import time low

    errors = Draft202012Validator(schema).iter_errors(config)
    problems: list[str] = []
    for error in sorted(errors, key=lambda e: list(e.absolute_path)):
        problems.extend(_describe(name, error))
    return problems


def rotating_fields(connector: str) -> list[str]:
    """Settings the vendor replaces as it goes (``x-hub-rotating`` in the connector's schema).

    They need the hub's encrypted credential store, which needs HUB_SECRET_KEY.
    """
    schema = _schema_for(connector, connector)
    return list(schema.get("x-hub-rotating", [])) if isinstance(schema, dict) else []


def _schema_for(name: str, connector: str) -> dict[str, Any] | str:
    """The connector's config schema, or a problem message when it cannot be had."""
    if connector in registry.BUILTIN_CONNECTORS:
        # Built-ins: read the schema file without importing the vendor SDK.
        return load_schema(f"connectors/{connector}.schema.json")
    try:
        return registry.get_connector_class(connector).config_schema()
    except ConfigError as exc:
        return f"{name}.connector: {exc.message}"


def _describe(name: str, error: Any) -> list[str]:
    """Messages for one schema error that name fields, never values."""
    path = ".".join(str(part) for part in error.absolute_path)
    where = f"{name}.{path}" if path else name
    kind, expected, instance = error.validator, error.validator_value, error.instance
    if kind == "required":
        return [f"{where}.{key}: is required" for key in expected if key not in instance]
    if kind == "dependentRequired":
        return [
            f"{where}.{needed}: is required when {key} is set"
            for key, needs in expected.items()
            if key in instance
            for needed in needs
            if needed not in instance
        ]
    if kind == "additionalProperties":
        known = error.schema.get("properties", {})
        return [f"{where}.{key}: unknown setting" for key in instance if key not in known]
    if kind == "anyOf" and "dependentSchemas" in error.schema_path:
        trigger = list(error.schema_path)[list(error.schema_path).index("dependentSchemas") + 1]
        options = " or ".join(k for option in expected for k in option.get("required", []))
        return [f"{where}.{trigger}: needs {options}"]
    return [f"{where}: {_simple_message(kind, expected)}"]


def _simple_message(kind: str, expected: Any) -> str:
    messages = {
        "type": f"must be of type {expected}",
        "minLength": "must not be empty",
        "pattern": "has an invalid format",
        "enum": f"must be one of {expected}",
        "minimum": f"must be at least {expected}",
        "maximum": f"must be at most {expected}",
    }
    return messages.get(kind, f"is invalid ({kind})")
