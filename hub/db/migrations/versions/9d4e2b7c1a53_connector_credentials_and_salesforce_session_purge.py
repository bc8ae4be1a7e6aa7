"""connector credentials; Salesforce session ids purged from stored deliveries

Rotating credentials (the QuickBooks refresh token) move from one process's memory to an
encrypted table every process shares. Salesforce outbound messages carry a live API session
(SessionId) and the endpoint URLs that go with it: earlier versions stored them in the raw
delivery; this blanks them. The pattern is frozen here on purpose (a migration must not change
when the connector does); connectors._salesforce_soap.blank_credentials does the same on ingest.

Revision ID: 9d4e2b7c1a53
Revises: 3c9a4d2e6f10
Create Date: 2026-12-01 23:30:00.000000
"""
import re

import sqlalchemy as sa
from alembic import op

revision = '9d4e2b7c1a53'
down_revision = '3c9a4d2e6f10'
branch_labels = None
depends_on = None

_OPENING = re.compile(
    rb"<(?P<tag>(?:[A-Za-z_][\w.-]*:)?(?:SessionId|EnterpriseUrl|PartnerUrl))\b[^<>]*>"
)
BATCH = 500


def upgrade() -> None:
    op.create_table(
        'connector_credentials',
        sa.Column('connection', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('ciphertext', sa.Text(), nullable=False),
        sa.Column('value_mac', sa.String(length=64), nullable=False),
        sa.Column('seed_mac', sa.String(length=64), nullable=False),
        sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('connection', 'name', name=op.f('pk_connector_credentials')),
    )
    _purge_salesforce_sessions(op.get_bind())


def _purge_salesforce_sessions(bind: sa.engine.Connection) -> None:
    ids = [row[0] for row in bind.execute(sa.text(
        "SELECT DISTINCT delivery_id FROM inbox_events "
        "WHERE connector = 'salesforce' AND delivery_id IS NOT NULL ORDER BY delivery_id"))]
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        rows = bind.execute(sa.text("SELECT id, body FROM webhook_deliveries WHERE id IN :ids")
                            .bindparams(sa.bindparam("ids", expanding=True)), {"ids": chunk})
        for delivery_id, body in rows.all():
            blanked = _blank(bytes(body))
            if blanked != bytes(body):
                bind.execute(sa.text("UPDATE webhook_deliveries SET body = :body WHERE id = :id"),
                             {"body": blanked, "id": delivery_id})


def _blank(body: bytes) -> bytes:
    """Credential elements emptied, in one linear pass (bodies stored earlier are well-formed XML)."""
    pieces: list[bytes] = []
    kept_until = 0
    unclosed: set[bytes] = set()
    for opening in _OPENING.finditer(body):
        tag = opening["tag"]
        if opening.start() < kept_until or opening.group().endswith(b"/>") or tag in unclosed:
            continue
        closing = body.find(b"</" + tag, opening.end())
        if closing < 0:
            unclosed.add(tag)
            continue
        pieces.append(body[kept_until:opening.end()])
        kept_until = closing
    return b"".join(pieces) + body[kept_until:] if pieces else body


def downgrade() -> None:
    # The purged session ids are gone for good, as they should be.
    op.drop_table('connector_credentials')
