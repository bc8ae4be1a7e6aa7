"""The embedded broker's message files appear whole or not at all (kombu's own transport opened
the final name and then wrote, and a worker polling in between died on an empty file)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from kombu import Connection

from hub.broker import AtomicFilesystemTransport, celery_settings
from hub.config import load_settings


def connection(folder: Path) -> Connection:
    (folder / "queue").mkdir(exist_ok=True)
    return Connection(transport=AtomicFilesystemTransport, transport_options={
        "data_folder_in": str(folder / "queue"), "data_folder_out": str(folder / "queue"),
        "store_processed": False})


def test_a_message_file_is_renamed_into_place_only_once_it_is_complete(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    seen_before_rename: list[list[str]] = []
    real_replace = os.replace

    def watching_replace(source, target):  # type: ignore[no-untyped-def]
        seen_before_rename.append(sorted(os.listdir(tmp_path / "queue")))
        assert json.loads(Path(source).read_bytes())  # the whole message is written already
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", watching_replace)
    with connection(tmp_path) as conn:
        conn.SimpleQueue("hub").put({"n": 1})
    assert len(seen_before_rename) == 1
    assert not any(name.endswith(".msg") for name in seen_before_rename[0])  # nothing to take yet
    names = os.listdir(tmp_path / "queue")
    assert len(names) == 1 and names[0].endswith(".hub.msg")


def test_messages_go_round_in_order(tmp_path):  # type: ignore[no-untyped-def]
    with connection(tmp_path) as conn:
        queue = conn.SimpleQueue("hub")
        for n in range(3):
            queue.put({"n": n})
        got = []
        for _ in range(3):
            message = queue.get(timeout=1)
            got.append(message.payload["n"])
            message.ack()
    assert got == [0, 1, 2]
    assert os.listdir(tmp_path / "queue") == []


def test_the_embedded_default_uses_the_atomic_transport(tmp_path):  # type: ignore[no-untyped-def]
    settings = load_settings(environ={}, overrides={"broker_url": "filesystem://",
                                                    "broker_folder": str(tmp_path)})
    assert celery_settings(settings)["broker_transport"] == "hub.broker:AtomicFilesystemTransport"
    redis = load_settings(environ={}, overrides={"broker_url": "redis://127.0.0.1:6379/0"})
    assert "broker_transport" not in celery_settings(redis)
