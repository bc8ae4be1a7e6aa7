"""Settings: defaults, then HUB_* environment, then overrides."""

from __future__ import annotations

import pytest

from hub.config import load_settings


def test_defaults_then_environment_then_overrides(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings(environ={}).port == 8000
    s = load_settings(environ={"HUB_PORT": "9000", "HUB_DATABASE_URL": "sqlite:///x.db",
                               "HUB_STRIPE_WEBHOOK_SECRET": "whsec_x", "OTHER": "1"})
    assert s.port == 9000 and s.database_url == "sqlite:///x.db"
    assert s.env == {"HUB_PORT": "9000", "HUB_DATABASE_URL": "sqlite:///x.db",
                     "HUB_STRIPE_WEBHOOK_SECRET": "whsec_x"}
    assert load_settings(environ={"HUB_PORT": "9000"}, overrides={"port": 1}).port == 1


def test_dotenv_file_supplies_values_under_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("HUB_PORT=7000\nHUB_RECIPES_DIR=mine\n")
    s = load_settings(environ={"HUB_PORT": "7001"})
    assert s.port == 7001 and s.recipes_dir == "mine"


def test_unknown_override_is_refused():
    with pytest.raises(KeyError):
        load_settings(environ={}, overrides={"nope": 1})


def test_secrets_are_not_in_repr():
    s = load_settings(environ={"HUB_STRIPE_WEBHOOK_SECRET": "whsec_topsecret"})
    assert "topsecret" not in repr(s)


def test_connections_file_placeholders_see_the_whole_environment(tmp_path):
    from hub.services.directory.connections import Connections

    path = tmp_path / "connections.yaml"
    path.write_text("connections:\n  stripe-eu:\n    connector: stripe\n"
                    "    webhook_secret: ${STRIPE_EU_SECRET}\n")
    s = load_settings(environ={"STRIPE_EU_SECRET": "whsec_eu", "HUB_CONNECTIONS_FILE": str(path)})
    connection = Connections(s).all()["stripe-eu"]
    assert connection.config["webhook_secret"] == "whsec_eu"
    assert "whsec_eu" not in repr(connection) and "whsec_eu" not in repr(s)


def test_readme_lists_every_setting():
    from dataclasses import fields
    from pathlib import Path

    from hub.config import Settings

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [f"HUB_{f.name.upper()}" for f in fields(Settings)
               if f.name not in ("env", "process_env") and f"HUB_{f.name.upper()}" not in readme]
    assert missing == []
