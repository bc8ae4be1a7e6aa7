"""Alembic migrations produce exactly the models' schema (nothing left to autogenerate)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.db.models import Base


def test_migrations_match_models(hub):  # type: ignore[no-untyped-def]
    with hub.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
