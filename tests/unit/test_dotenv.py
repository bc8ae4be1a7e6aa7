"""Writing .env (add_to_dotenv) and reading settings back: values kept, round trips exact,
unreadable values refused with the variable's name."""

from __future__ import annotations

import stat

import pytest

from hub.config import add_to_dotenv, load_settings, read_environment
from hub.errors import ConfigError


def test_add_to_dotenv_writes_only_what_the_file_lacks(tmp_path):
    path = tmp_path / ".env"
    path.write_text("HUB_PORT=7000\nOTHER=1")  # no newline at the end

    written = add_to_dotenv({"HUB_PORT": "8000", "HUB_ADMIN_API_KEY": "dev"}, environ={},
                            dotenv_path=str(path))
    again = add_to_dotenv({"HUB_PORT": "8000", "HUB_ADMIN_API_KEY": "other"}, environ={},
                          dotenv_path=str(path))

    assert written == ["HUB_ADMIN_API_KEY"] and again == []
    assert path.read_text() == "HUB_PORT=7000\nOTHER=1\nHUB_ADMIN_API_KEY=dev\n"


def test_add_to_dotenv_writes_the_environments_value_over_the_default(tmp_path):
    path = tmp_path / ".env"
    add_to_dotenv({"HUB_PORT": "8000"}, environ={"HUB_PORT": "9123"}, dotenv_path=str(path))
    assert read_environment(environ={}, dotenv_path=str(path)) == {"HUB_PORT": "9123"}


def test_new_dotenv_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / ".env"
    add_to_dotenv({"HUB_SECRET_KEY": "s"}, environ={}, dotenv_path=str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("value", ["two words", "it's", "a#b", "back\\slash", 'quo"te', "ünï"])
def test_dotenv_values_read_back_exactly(tmp_path, value):
    path = tmp_path / ".env"
    add_to_dotenv({"HUB_ADMIN_API_KEY": value}, environ={}, dotenv_path=str(path))
    assert read_environment(environ={}, dotenv_path=str(path))["HUB_ADMIN_API_KEY"] == value


@pytest.mark.parametrize(("name", "raw"), [("HUB_PORT", "abc"), ("HUB_RETRY_BASE_SECONDS", "soon")])
def test_unreadable_setting_is_a_config_error_naming_the_variable(tmp_path, monkeypatch, name, raw):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={name: raw})
    assert name in caught.value.message and repr(raw) in caught.value.message
