"""docker-compose.yml parses, every command it runs exists in this project, and every queue has
workers (in compose and in `hub serve`)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import yaml

from hub import commands
from hub.broker import BULK_QUEUE, QUEUE
from hub.commands import db, demo, keys, serve  # noqa: F401  (groups the compose file runs)
from hub.commands.serve import GUNICORN_OPTIONS

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


def consumed_queues(command: list[str]) -> set[str]:
    """The queues a `celery ... worker` command consumes: --queues, else every declared one."""
    if "--queues" not in command:
        return {QUEUE, BULK_QUEUE}
    return set(command[command.index("--queues") + 1].split(","))


def test_every_queue_has_workers_in_compose_and_bulk_workers_take_one_message_at_a_time():
    workers = {name: service["command"] for name, service in compose()["services"].items()
               if service.get("command", [None])[0] == "celery" and "worker" in service["command"]}
    consumers = {queue: [name for name, command in workers.items() if queue in consumed_queues(command)]
                 for queue in (QUEUE, BULK_QUEUE)}

    assert all(consumers.values()), consumers
    assert BULK_QUEUE not in consumed_queues(workers["worker"])  # webhooks never wait for imports
    for name in consumers[BULK_QUEUE]:  # so that an import's parts spread over the workers
        command = workers[name]
        assert command[command.index("--prefetch-multiplier") + 1] == "1", name


def test_hub_serve_starts_a_worker_that_consumes_both_queues():
    command = serve._commands(8000, 2)["worker"]

    assert consumed_queues(command) == {QUEUE, BULK_QUEUE}


def test_compose_runs_the_web_tier_as_hub_serve_does():
    """The pipeline bench starts gunicorn with hub serve's options: the same as deployed."""
    command = compose()["services"]["web"]["command"]
    assert command[command.index("--worker-class"):-1] == GUNICORN_OPTIONS


def test_compose_web_workers_share_their_metrics():
    """Without a multiprocess directory each gunicorn worker would answer /metrics alone."""
    web = compose()["services"]["web"]
    folder = web["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert folder in web["tmpfs"]
    assert web["environment"]["HUB_DATABASE_URL"] == compose()["x-hub-env"]["HUB_DATABASE_URL"]
