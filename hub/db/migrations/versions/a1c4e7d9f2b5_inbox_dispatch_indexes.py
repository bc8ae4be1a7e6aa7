"""inbox dispatch indexes

The dispatcher asks, on every pass, for the oldest events never published and for how many
published ones are unprocessed. Through the (status, received_at) index both read every
received row, so under a backlog of 20,000 events each pass cost more than the backlog grew and
the worker fell further behind (measured with bench/bench_pipeline.py). Two partial indexes
hold only the rows each question is about: the undispatched by id, the in-flight by the time
they were published.

Revision ID: a1c4e7d9f2b5
Revises: f3b8d1e6a2c7
Create Date: 2026-12-04 02:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'a1c4e7d9f2b5'
down_revision = 'f3b8d1e6a2c7'
branch_labels = None
depends_on = None

UNDISPATCHED = "status = 'received' AND enqueued_at IS NULL"
IN_FLIGHT = "status = 'received' AND enqueued_at IS NOT NULL"


def upgrade() -> None:
    op.create_index('ix_inbox_events_undispatched', 'inbox_events', ['id'],
                    postgresql_where=sa.text(UNDISPATCHED), sqlite_where=sa.text(UNDISPATCHED))
    op.create_index('ix_inbox_events_in_flight', 'inbox_events', ['enqueued_at'],
                    postgresql_where=sa.text(IN_FLIGHT), sqlite_where=sa.text(IN_FLIGHT))


def downgrade() -> None:
    op.drop_index('ix_inbox_events_in_flight', table_name='inbox_events')
    op.drop_index('ix_inbox_events_undispatched', table_name='inbox_events')
