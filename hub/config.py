"""Settings, read in one place: defaults, then HUB_* environment (or a .env file), then overrides."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from hub.errors import ConfigError

ONE_MIB = 1024 * 1024
# A value .env can hold as it is; anything else is single-quoted (as python-dotenv reads it).
_BARE_VALUE = re.compile(r"^[A-Za-z0-9_.,:/@+=-]*$")


@dataclass(frozen=True)
class Settings:
    """Everything the hub can be told. The README lists every variable with its default."""

    port: int = 8000
    database_url: str = "sqlite:///var/hub.db"
    broker_url: str = "filesystem://"
    broker_folder: str = "var/broker"
    recipes_dir: str = "recipes"
    connections_file: str | None = None
    admin_api_key: str | None = field(default=None, repr=False)
    # Encrypts rotating connector credentials at rest (`make run` writes one into .env).
    secret_key: str | None = field(default=None, repr=False)
    # When set, /metrics needs `Authorization: Bearer <it>` (Prometheus: authorization.credentials).
    metrics_key: str | None = field(default=None, repr=False)
    notify_url: str | None = None
    max_request_bytes: int = ONE_MIB
    import_max_bytes: int = 50 * ONE_MIB
    import_parallelism: int = 2
    exports_at_once: int = 1
    retry_max_attempts: int = 6
    retry_base_seconds: float = 10.0
    retry_max_seconds: float = 3600.0
    inbox_retention_days: int = 7
    salesforce_poll_seconds: int = 300
    quickbooks_backfill_seconds: int = 3600
    sweep_seconds: int = 30
    lost_after_seconds: int = 600
    # The outbox dispatcher (hub.services.ingest.dispatch): events claimed per pass, and how long
    # it sleeps when nothing wakes it (PostgreSQL's NOTIFY wakes it at once; SQLite polls).
    dispatch_batch: int = 200
    dispatch_interval_seconds: float = 0.25
    # Published events not yet processed beyond which the dispatcher waits (0: no limit).
    dispatch_in_flight: int = 800
    dispatcher: bool = True  # a dispatcher thread in every Celery worker
    # Events one worker task processes in one transaction (hub.services.processing.batch), and
    # how many vendor API fetches of one connection a worker process runs at once.
    process_batch: int = 200
    fetch_concurrency: int = 16
    log_level: str = "INFO"
    # Pages: how long a sign-in lasts, and the lockout after repeated wrong passwords.
    session_hours: int = 12
    sign_in_attempts: int = 5
    lockout_minutes: int = 15
    invite_hours: int = 72
    # Session cookies are marked Secure when the request came over https; set this behind a
    # proxy that terminates TLS (it forwards plain http) to mark them Secure always.
    secure_cookies: bool = False
    # Where people reach the pages (invite links); defaults to http://127.0.0.1:<port>.
    public_url: str | None = None
    # `make run` only: the demo admin's password, set by `hub demo` and printed by `hub serve`.
    demo_admin_password: str | None = field(default=None, repr=False)
    # Every HUB_* variable as given, for the connector configuration (HUB_STRIPE_*, ...).
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    # The whole environment, only for ${VAR} placeholders in HUB_CONNECTIONS_FILE.
    process_env: Mapping[str, str] = field(default_factory=dict, repr=False)

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> Settings:
        if not overrides:
            return self
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise KeyError(f"unknown settings: {sorted(unknown)}")
        return replace(self, **overrides)


def _coerce(name: str, raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    try:
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError as exc:
        kind = "a whole number" if isinstance(default, int) else "a number"
        raise ConfigError(f"HUB_{name.upper()}={raw!r} is not {kind}: fix it in the environment "
                          "or in .env", code="invalid_setting") from exc
    return raw


def read_environment(environ: Mapping[str, str] | None = None, dotenv_path: str = ".env") -> dict:
    """HUB_* variables from a .env file, overridden by the real environment."""
    environ = os.environ if environ is None else environ
    merged: dict[str, str] = {}
    if Path(dotenv_path).is_file():
        merged.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    merged.update(environ)
    return {k: v for k, v in merged.items() if k.startswith("HUB_")}


def add_to_dotenv(defaults: Mapping[str, str], environ: Mapping[str, str] | None = None,
                  dotenv_path: str = ".env") -> list[str]:
    """Append to .env each of ``defaults`` it does not name yet; the names written, in order.

    The value written is the one the hub would be given now: the environment's, else the
    default. Values already in the file are never changed, so running it again changes nothing.
    The file may hold secrets: a new one is readable by its owner only.
    """
    environ = os.environ if environ is None else environ
    path = Path(dotenv_path)
    present = set(dotenv_values(path)) if path.is_file() else set()
    missing = {k: environ.get(k) or v for k, v in defaults.items() if k not in present}
    if not missing:
        return []
    before = path.read_text(encoding="utf-8") if path.is_file() else ""
    separator = "\n" if before and not before.endswith("\n") else ""
    lines = "".join(f"{k}={_dotenv_value(v)}\n" for k, v in missing.items())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as stream:
        stream.write(separator + lines)
    return list(missing)


def _dotenv_value(value: str) -> str:
    if _BARE_VALUE.match(value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build Settings from defaults, then the environment, then explicit overrides (tests)."""
    environ = os.environ if environ is None else environ
    hub_env = read_environment(environ)
    base = Settings()
    values: dict[str, Any] = {"env": hub_env, "process_env": {**environ, **hub_env}}
    for f in fields(Settings):
        if f.name in ("env", "process_env"):
            continue
        raw = hub_env.get(f"HUB_{f.name.upper()}")
        if raw not in (None, ""):
            values[f.name] = _coerce(f.name, raw, getattr(base, f.name))
    return replace(base, **values).with_overrides(overrides)
