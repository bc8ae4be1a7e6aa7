"""Migration b7e3f1a2c9d4: failed runs replayed before it are marked resolved by their replays;
the downgrade drops the column and keeps the runs."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, inspect, text

from hub.db import migrate
from tests.conftest import _create_postgres_database, _drop_postgres_database

BEFORE = "9d4e2b7c1a53"
RESOLVED_BY = "b7e3f1a2c9d4"
# id, status, replay_of_id
RUNS = (
    (1, "failed", None), (2, "failed", 1), (3, "succeeded", 1),  # resolved by 3, with its failed replay
    (4, "failed", None), (5, "failed", 4),  # never replayed through
    (6, "failed", None), (7, "skipped", 6), (8, "succeeded", 6),  # the first that did not fail wins
    (9, "succeeded", None), (10, "succeeded", 9),  # not a failure: nothing to resolve
)


@pytest.fixture
def empty_database(tmp_path):  # type: ignore[no-untyped-def]
    server = os.environ.get("HUB_TEST_DATABASE_URL", "")
    if not server.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url = _create_postgres_database(server)
    yield url
    _drop_postgres_database(server, url)


def _insert_runs(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for run_id, status, replay_of in RUNS:
            conn.execute(text(
                "INSERT INTO recipe_runs (id, status, attempts, started_at, trace, updates, created_at, "
                "replay_of_id) VALUES (:id, :status, 1, CURRENT_TIMESTAMP, '[]', '[]', CURRENT_TIMESTAMP, "
                ":replay_of)"), {"id": run_id, "status": status, "replay_of": replay_of})
    engine.dispose()


def test_upgrade_marks_failed_runs_their_replays_resolved(empty_database):  # type: ignore[no-untyped-def]
    migrate.upgrade(empty_database, BEFORE)
    _insert_runs(empty_database)

    migrate.upgrade(empty_database, RESOLVED_BY)

    engine = create_engine(empty_database)
    with engine.connect() as conn:
        resolved = dict(conn.execute(text("SELECT id, resolved_by_id FROM recipe_runs")).all())
    engine.dispose()
    assert resolved == {1: 3, 2: 3, 3: None, 4: None, 5: None, 6: 7, 7: None, 8: None, 9: None, 10: None}


def test_downgrade_drops_resolved_by_and_keeps_the_runs(empty_database):  # type: ignore[no-untyped-def]
    migrate.upgrade(empty_database, BEFORE)
    _insert_runs(empty_database)
    migrate.upgrade(empty_database, RESOLVED_BY)

    migrate.downgrade(empty_database, BEFORE)

    engine = create_engine(empty_database)
    with engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("recipe_runs")}
        replays = dict(conn.execute(text("SELECT id, replay_of_id FROM recipe_runs")).all())
    engine.dispose()
    assert "resolved_by_id" not in columns
    assert replays == {run_id: replay_of for run_id, _, replay_of in RUNS}
