"""Connections from HUB_* variables and the connections YAML file, checked against their JSON Schemas.

Every problem is collected and reported at once (``ConfigError.details``) and no message ever
contains a configured value: only connection names, field names and variable names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
_MODIFIERS = frozenset({"api_base", "environment", "domain", "match_field"})

CONNECTION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_PLACEHOLDER = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

Raw = dict[str, tuple[str, dict[str, Any]]]


def load_connections(env: Mapping[str, str], connections_file: str | None = None) -> dict[str, Connection]:
    """Every configured connection by name; ConfigError listing all problems otherwise."""
    problems: list[str] = []
    raw: Raw = _connections_from_env(env, problems)
    if connections_file:
        _connections_from_file(Path(connections_file), env, raw, problems)
    for name, (connector, config) in raw.items():
        problems.extend(_validate(name, connector, config))
    if problems:
        raise ConfigError("invalid connector configuration", details=list(dict.fromkeys(problems)))
    return {name: Connection(name, connector, config) for name, (connector, config) in raw.items()}


def _connections_from_env(env: Mapping[str, str], problems: list[str]) -> Raw:
    raw: Raw = {}
    for connector, fields in ENV_FIELDS.items():
        values = {field: env[var] for var, field in fields.items() if env.get(var)}
        if any(env.get(var) for var in ENV_TRIGGERS[connector]):
            raw[connector] = (connector, values)
            continue
        orphans = [var for var, field in fields.items() if field in values and field not in _MODIFIERS]
        if orphans:
            problems.append(
                f"{connector}: {', '.join(orphans)} set but {' / '.join(ENV_TRIGGERS[connector])} missing"
            )
    return raw


def _connections_from_file(path: Path, env: Mapping[str, str], raw: Raw, problems: list[str]) -> None:
    document = _read_yaml(path, problems)
    if document is None:
        return
    if not isinstance(document, dict) or not isinstance(document.get("connections"), dict):
        problems.append(f"{path}: expected a mapping with a 'connections' mapping")
        return
    problems.extend(f"{path}: unknown top-level key {key!r}" for key in document if key != "connections")
    for name, entry in document["connections"].items():
        parsed = _file_entry(str(name), entry, env, problems)
        if parsed is None:
            continue
        if name in raw:
            problems.append(f"{name}: defined both by HUB_* variables and in {path}")
            continue
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
