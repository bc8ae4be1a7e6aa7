"""Settings, read in one place: defaults, then HUB_* environment (or a .env file), then overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

ONE_MIB = 1024 * 1024


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
    notify_url: str | None = None
    max_request_bytes: int = ONE_MIB
    import_max_bytes: int = 50 * ONE_MIB
    import_parallelism: int = 2
    retry_max_attempts: int = 6
    retry_base_seconds: float = 10.0
    retry_max_seconds: float = 3600.0
    inbox_retention_days: int = 7
    salesforce_poll_seconds: int = 300
    quickbooks_backfill_seconds: int = 3600
    sweep_seconds: int = 30
    lost_after_seconds: int = 600
    log_level: str = "INFO"
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
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def read_environment(environ: Mapping[str, str] | None = None, dotenv_path: str = ".env") -> dict:
    """HUB_* variables from a .env file, overridden by the real environment."""
    environ = os.environ if environ is None else environ
    merged: dict[str, str] = {}
    if Path(dotenv_path).is_file():
        merged.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    merged.update(environ)
    return {k: v for k, v in merged.items() if k.startswith("HUB_")}


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
