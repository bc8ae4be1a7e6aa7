"""Shared fixtures: one database per test session (SQLite file or a fresh PostgreSQL database),
emptied between tests; the app, a client, API keys, and a recording queue fake.

Select the database with HUB_TEST_DATABASE_URL (default: a SQLite file). For PostgreSQL give
the server URL of any database (e.g. postgresql+psycopg://root@127.0.0.1:5432/test); the suite
creates its own database beside it and drops it at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hub.app import create_app
from hub.bootstrap import Hub, build_hub
from hub.cli import register_commands
from hub.config import load_settings
from hub.db import migrate
from hub.db.models import Base
from hub.queue import TaskQueue

ADMIN_KEY = "test-admin-key-0123456789"


class RecordingQueue(TaskQueue):
    """The real adapter's interface, recording instead of publishing (unit and API tests)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...]]] = []
        self.up = True

    def enqueue(self, task_name: str, *args: Any) -> bool:
        if not self.up:
            return False
        self.sent.append((task_name, args))
        return True

    def ping(self) -> tuple[bool, str]:
        return (True, "ok") if self.up else (False, "RecordingQueue down")


def dispatched(hub) -> list[int]:  # type: ignore[no-untyped-def]
    """Run the outbox dispatcher once, as a worker's dispatcher thread would after a webhook's
    commit: the inbox ids it published."""
    from hub.services.ingest.dispatch import dispatch_pending

    before = len(hub.queue.sent)
    dispatch_pending(hub)
    return published_ids(hub.queue.sent[before:])


def published_ids(sent) -> list[int]:  # type: ignore[no-untyped-def]
    """The inbox ids in these published messages, single events and batches alike."""
    from hub.queue import PROCESS_EVENT, PROCESS_EVENTS

    return [i for name, args in sent if name in (PROCESS_EVENT, PROCESS_EVENTS)
            for i in (args[0] if name == PROCESS_EVENTS else [args[0]])]


def last_dispatched(hub) -> int:  # type: ignore[no-untyped-def]
    """Dispatch what waits, then the newest inbox id ever published (the event just posted)."""
    dispatched(hub)
    return max(published_ids(hub.queue.sent))


def _create_postgres_database(server_url: str) -> str:
    url = make_url(server_url)
    name = f"hub_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(server_url: str, test_url: str) -> None:
    name = make_url(test_url).database
    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = os.environ.get("HUB_TEST_DATABASE_URL", "")
    if server.startswith("postgresql"):
        url = _create_postgres_database(server)
        migrate.upgrade(url)
        yield url
        _drop_postgres_database(server, url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'hub.db'}"
        migrate.upgrade(url)
        yield url


@pytest.fixture
def settings(database_url: str, tmp_path):  # type: ignore[no-untyped-def]
    return load_settings(
        environ={},
        overrides={
            "database_url": database_url,
            "admin_api_key": ADMIN_KEY,
            "broker_url": "filesystem://",
            "broker_folder": str(tmp_path / "broker"),
            "recipes_dir": str(tmp_path / "recipes"),
        },
    )


def _empty_all_tables(hub: Hub) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    with hub.db.engine.begin() as conn:
        if hub.db.dialect == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def queue() -> RecordingQueue:
    return RecordingQueue()


@pytest.fixture
def hub(settings, queue) -> Iterator[Hub]:  # type: ignore[no-untyped-def]
    built = build_hub(settings, queue=queue)
    _empty_all_tables(built)
    yield built
    built.db.dispose()


@pytest.fixture
def app(hub):  # type: ignore[no-untyped-def]
    return create_app(hub=hub)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    register_commands(app)  # as the `hub` script does: create_app() builds the web app only
    return app.test_cli_runner()


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
def is_postgres(hub) -> bool:  # type: ignore[no-untyped-def]
    return hub.db.dialect == "postgresql"
