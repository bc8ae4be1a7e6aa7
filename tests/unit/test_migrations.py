"""Alembic migrations produce exactly the models' schema (nothing left to autogenerate), and
moving between revisions keeps the data."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, select, text

from hub.bootstrap import build_hub
from hub.config import load_settings
from hub.db import migrate
from hub.db.models import Base, CsvImport, Customer, ImportFileChunk
from tests.conftest import _create_postgres_database, _drop_postgres_database


def test_migrations_match_models(hub):  # type: ignore[no-untyped-def]
    with hub.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


INITIAL = "22f6e9fc5054"


@pytest.fixture
def empty_database(tmp_path):  # type: ignore[no-untyped-def]
    """A database of its own (migrated step by step here), on the suite's kind of server."""
    server = os.environ.get("HUB_TEST_DATABASE_URL", "")
    if not server.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url = _create_postgres_database(server)
    yield url
    _drop_postgres_database(server, url)


def test_upgrading_and_downgrading_keep_the_data(empty_database):  # type: ignore[no-untyped-def]
    # SQLite rebuilds a table to alter it; with foreign keys on, dropping the old table would
    # cascade into its children (account managers, an import's stored file). Nothing may go.
    migrate.upgrade(empty_database, INITIAL)
    engine = create_engine(empty_database)
    with engine.begin() as conn:
        for sql in (
            "INSERT INTO customers (id, external_id, custom_fields, created_at, updated_at) "
            "VALUES ('c1', 'cus_1', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            "INSERT INTO users (id, email, role, status, created_at) "
            "VALUES ('u1', 'ann@example.com', 'account_manager', 'active', CURRENT_TIMESTAMP)",
            "INSERT INTO customer_account_managers VALUES ('c1', 'u1')",
            "INSERT INTO field_assignments VALUES ('c1', 'workflow', 'api', "
            "'2026-01-02 03:04:05.123456+00:00', '2026-01-02 03:04:05+00:00')",
            "INSERT INTO imports (id, status, column_map, headers, total_bytes, bytes_read, "
            "total_lines, processed_lines, last_line, updated, unchanged, failed, attempts, "
            "created_at) VALUES (1, 'running', '{}', '[]', 10, 0, 0, 4, 5, 4, 0, 0, 1, "
            "CURRENT_TIMESTAMP)",
            "INSERT INTO import_files VALUES (1, 0, :data)",
        ):
            conn.execute(text(sql), {"data": b"External Id\n"} if ":data" in sql else {})
    engine.dispose()

    migrate.upgrade(empty_database)
    hub = build_hub(load_settings(environ={}, overrides={"database_url": empty_database}),
                    queue=None)
    with hub.uow() as uow:
        customer = uow.session.get(Customer, "c1")
        assert [u.email for u in customer.account_managers] == ["ann@example.com"]
        assert [(a.field, a.source, a.changed_at) for a in customer.assignments] == [
            ("workflow", "api", datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC))]
        assert uow.session.get(CsvImport, 1).last_lines == [5]  # resumes as one part
        assert uow.session.scalar(select(func.count()).select_from(ImportFileChunk)) == 1
    hub.db.dispose()

    migrate.downgrade(empty_database, INITIAL)
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT customer_id, field, source FROM field_assignments")).all() == [
            ("c1", "workflow", "api")]
        assert conn.execute(text("SELECT last_line FROM imports")).scalar() == 5
        assert conn.execute(text("SELECT count(*) FROM customer_account_managers")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM import_files")).scalar() == 1
    engine.dispose()
