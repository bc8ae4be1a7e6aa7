"""docker-compose.yml parses, and every command it runs exists in this project."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import yaml

from hub import commands
from hub.commands import db, demo, keys, serve  # noqa: F401  (groups the compose file runs)

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_whole_stack():
    services = compose()["services"]
    assert {"web", "worker", "beat", "redis", "postgres"} <= set(services)
    assert services["web"]["environment"]["HUB_DATABASE_URL"].startswith("postgresql")
    assert services["worker"]["environment"]["HUB_BROKER_URL"].startswith("redis://")


def test_compose_commands_exist():
    bin_dir = Path(sys.executable).parent
    for name, service in compose()["services"].items():
        command = service.get("command")
        if not command or name in ("redis", "postgres"):
            continue
        program = command[0]
        assert (bin_dir / program).exists() or shutil.which(program), f"{name}: {program}"
        if program == "hub":
            group = getattr(commands, command[1])
            assert command[2] in getattr(group, command[1]).commands
        if program == "gunicorn":
            assert command[-1] == "wsgi:app" and (ROOT / "wsgi.py").exists()
        if program == "celery":
            module, attr = command[2].split(":")
            assert (ROOT / (module.replace(".", "/") + ".py")).exists() and attr == "celery"
