"""Celery broker settings shared by the web process (producer) and the worker (consumer).

The embedded default is kombu's filesystem transport: it needs no server, survives restarts
(messages are files) and lets a separate worker process consume what the web process
produced. Production and CI use Redis through HUB_BROKER_URL.

Two queues: `hub` (webhook events, beat's ticks) and `bulk` (imports and their parts, replay
jobs), so that a long import never sits ahead of webhook processing. Both are declared, so a
worker started without `--queues` consumes both; docker-compose.yml gives `bulk` workers of
its own.

The filesystem transport is kombu's with one change (``AtomicFilesystemTransport``): a message
file appears under its final name only once it is complete. kombu opens the final name and then
writes, so a worker polling the folder in between read an empty file and died on
``JSONDecodeError`` (seen in the browser tests: the web process published while the worker
polled).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from time import monotonic_ns
from typing import Any

from kombu import Exchange, Queue
from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

from hub.config import Settings

QUEUE = "hub"
BULK_QUEUE = "bulk"


class AtomicFilesystemChannel(filesystem.Channel):
    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> Any:  # type: ignore[override]  # kombu's own bases disagree
        """Write the message under a name the consumer skips, then rename it into place: the
        rename is atomic, so a consumer sees the whole message or none of it. Names start with
        the time as kombu's do, in nanoseconds rather than milliseconds and zero-padded, so that
        the consumer's sort by name takes messages in the order they were sent."""
        name = f"{monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        # A leading dot: kombu's consumer reads only names whose part after the first dot is
        # "<queue>.msg", so it never takes a file still being written.
        partial = os.path.join(self.data_folder_out, f".{uuid.uuid4()}.partial")
        try:
            with open(partial, "wb") as out:
                out.write(str_to_bytes(dumps(payload)))
            os.replace(partial, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            if os.path.exists(partial):
                os.remove(partial)
            raise ChannelError(f"Cannot add file {name!r} to directory") from exc


class AtomicFilesystemTransport(filesystem.Transport):
    Channel = AtomicFilesystemChannel


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
        conf["broker_transport"] = f"{__name__}:AtomicFilesystemTransport"
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
