"""Alembic migrations produce exactly the models' schema (nothing left to autogenerate), and
moving between revisions keeps the data."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select, text

from hub.bootstrap import build_hub
from hub.config import load_settings
from hub.db import migrate
from hub.db.models import Base, CsvImport, Customer, ImportFilePiece
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
        assert uow.session.get(CsvImport, 1).finished_parts == []  # which has not ended
        assert uow.session.scalar(select(func.count()).select_from(ImportFilePiece)) == 1
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


BEFORE_CREDENTIALS = "3c9a4d2e6f10"
CREDENTIALS = "9d4e2b7c1a53"
SAMPLES = Path(__file__).resolve().parent / "connectors" / "fixtures" / "salesforce"
SESSION_SECRETS = (
    b"SECRET_SESSION_abc",
    b"https://x/services/Soap/c/59.0/00D000000000001",
    b"https://x/services/Soap/u/59.0/00D000000000001",
)


def _salesforce_body_with_session() -> bytes:
    body = (SAMPLES / "outbound_single_with_match_field.xml").read_bytes()
    body, n = re.subn(rb"<SessionId>[^<]*</SessionId>", b"<SessionId>SECRET_SESSION_abc</SessionId>", body)
    assert n == 1
    body, n = re.subn(rb"<EnterpriseUrl>[^<]*</EnterpriseUrl>",
                      b"<EnterpriseUrl>" + SESSION_SECRETS[1] + b"</EnterpriseUrl>", body)
    assert n == 1
    body, n = re.subn(rb"<PartnerUrl>[^<]*</PartnerUrl>",
                      b"<PartnerUrl>" + SESSION_SECRETS[2] + b"</PartnerUrl>", body)
    assert n == 1
    return body


def _stripe_body_mentioning_session_id() -> bytes:
    # A JSON body that merely looks like it holds a session (a customer note): not Salesforce's.
    return (b'{"id":"evt_1SdXq2LkdIwHu7ixQ9b3Zc1T","object":"event","type":"customer.updated",'
            b'"data":{"object":{"id":"cus_TbQ8mJ2kP4xY7a","object":"customer","description":'
            b'"SessionId <SessionId>keep_me</SessionId> <PartnerUrl>https://x/u</PartnerUrl>",'
            b'"metadata":{"SessionId":"also_kept"}}}}\n')


def test_upgrade_blanks_salesforce_sessions_when_deliveries_hold_them(empty_database):  # type: ignore[no-untyped-def]
    migrate.upgrade(empty_database, BEFORE_CREDENTIALS)
    salesforce = _salesforce_body_with_session()
    nil_session = (SAMPLES / "outbound_partner_wsdl_nil_session.xml").read_bytes()
    stripe = _stripe_body_mentioning_session_id()
    assert b'<SessionId xsi:nil="true"/>' in nil_session
    engine = create_engine(empty_database)
    with engine.begin() as conn:
        for delivery_id, connection, body in ((1, "salesforce", salesforce), (2, "stripe", stripe),
                                              (3, "salesforce", nil_session)):
            conn.execute(text("INSERT INTO webhook_deliveries (id, connection, received_at, headers, body) "
                              "VALUES (:id, :connection, CURRENT_TIMESTAMP, '{}', :body)"),
                         {"id": delivery_id, "connection": connection, "body": body})
        # Two notifications of the first delivery point at it; the purge must treat it once.
        for inbox_id, connector, delivery_id in ((10, "salesforce", 1), (11, "salesforce", 1),
                                                 (12, "stripe", 2), (13, "salesforce", 3)):
            conn.execute(text(
                "INSERT INTO inbox_events (id, connection, connector, vendor_event_id, event_type, "
                "status, received_at, delivery_id, payload) VALUES (:id, :connection, :connector, "
                ":vendor_id, 'Account', 'processed', CURRENT_TIMESTAMP, :delivery_id, '{}')"),
                {"id": inbox_id, "connection": connector, "connector": connector,
                 "vendor_id": f"evt_{inbox_id}", "delivery_id": delivery_id})
    engine.dispose()

    migrate.upgrade(empty_database, CREDENTIALS)

    engine = create_engine(empty_database)
    with engine.connect() as conn:
        bodies = {row[0]: bytes(row[1]) for row in conn.execute(
            text("SELECT id, body FROM webhook_deliveries ORDER BY id"))}
        tables = inspect(conn).get_table_names()
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    expected = salesforce
    for secret in SESSION_SECRETS:
        expected = expected.replace(secret, b"")
    assert all(secret not in bodies[1] for secret in SESSION_SECRETS)
    assert bodies[1] == expected  # tags kept, everything else byte for byte
    assert b"<SessionId></SessionId>" in bodies[1] and b"<PartnerUrl></PartnerUrl>" in bodies[1]
    assert bodies[2] == stripe
    assert bodies[3] == re.sub(rb"<(EnterpriseUrl|PartnerUrl)>[^<]*</", rb"<\1></", nil_session)
    assert b'<SessionId xsi:nil="true"/>' in bodies[3]
    assert "connector_credentials" in tables
    assert version == CREDENTIALS


def test_downgrade_drops_the_credentials_table_when_stepping_back(empty_database):  # type: ignore[no-untyped-def]
    migrate.upgrade(empty_database)
    engine = create_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO connector_credentials (connection, name, ciphertext, value_mac, "
                          "seed_mac, updated_at) VALUES ('qb', 'refresh_token', 'x', 'm', 'm', "
                          "CURRENT_TIMESTAMP)"))
    engine.dispose()

    migrate.downgrade(empty_database, BEFORE_CREDENTIALS)

    engine = create_engine(empty_database)
    with engine.connect() as conn:
        assert "connector_credentials" not in inspect(conn).get_table_names()
        assert "webhook_deliveries" in inspect(conn).get_table_names()
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == BEFORE_CREDENTIALS
    engine.dispose()
    migrate.upgrade(empty_database)  # and back up again, from a clean step
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM connector_credentials")).scalar() == 0
    engine.dispose()
