"""Celery broker settings shared by the web process (producer) and the worker (consumer).

The embedded default is kombu's filesystem transport: it needs no server, survives restarts
(messages are files) and lets a separate worker process consume what the web process
produced. Production and CI use Redis through HUB_BROKER_URL.

Two queues: `hub` (webhook events, beat's ticks) and `bulk` (imports and their parts, replay
jobs), so that a long import never sits ahead of webhook processing. Both are declared, so a
worker started without `--queues` consumes both; docker-compose.yml gives `bulk` workers of
its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kombu import Exchange, Queue

from hub.config import Settings

QUEUE = "hub"
BULK_QUEUE = "bulk"


def is_filesystem(url: str) -> bool:
    return url.startswith("filesystem://")


def celery_settings(settings: Settings, bulk_tasks: Iterable[str] = ()) -> dict[str, Any]:
    """``bulk_tasks``: the task names routed to the bulk queue (hub.queue.BULK_TASKS; passed in,
    as hub.queue builds its producer from these settings)."""
    url = settings.broker_url
    conf: dict[str, Any] = {
        "broker_url": url,
        "task_default_queue": QUEUE,
        # Declared as Celery would create them (a direct exchange of the queue's name).
        "task_queues": tuple(Queue(name, Exchange(name), routing_key=name)
                             for name in (QUEUE, BULK_QUEUE)),
        "task_routes": {name: {"queue": BULK_QUEUE} for name in bulk_tasks},
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 4,
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_backend": None,
        "task_ignore_result": True,
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
    }
    if is_filesystem(url):
        folder = Path(settings.broker_folder).resolve()
        conf["broker_transport_options"] = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        }
        conf["worker_enable_remote_control"] = False
    else:
        # Keep the visibility timeout above the longest task: unacked messages are redelivered
        # after it. Retries are scheduled in the database, never as long countdowns.
        conf["broker_transport_options"] = {
            "visibility_timeout": 3600,
            "socket_connect_timeout": 2,
            "socket_timeout": 5,
        }
    return conf


def ensure_folders(settings: Settings) -> None:
    if is_filesystem(settings.broker_url):
        opts = celery_settings(settings)["broker_transport_options"]
        for key in ("data_folder_in", "control_folder"):
            Path(opts[key]).mkdir(parents=True, exist_ok=True)
