"""saved views and bulk assign jobs

The admin workspace: a user's saved views of the customer list (a named query string, private
or shared with the team), bulk assignments of selections too large for one request, run by a
worker with progress, resumable chunk by chunk, and an index for the list sorted by name.

Revision ID: f3b8d1e6a2c7
Revises: d2f9a6c4e8b1
Create Date: 2026-12-02 16:30:00.000000
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from hub.db.types import UTCDateTime

revision = 'f3b8d1e6a2c7'
down_revision = 'd2f9a6c4e8b1'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_index('ix_customers_name_external_id', 'customers', ['name', 'external_id'])
    op.create_table(
        'saved_views',
        sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
        sa.Column('owner_id', sa.String(36), sa.ForeignKey('users.id', ondelete='CASCADE',
                                                           name=op.f('fk_saved_views_owner_id_users')),
                  nullable=False),
        sa.Column('name', sa.String(100), nullable=False),
        sa.Column('query', JSON, nullable=False),
        sa.Column('shared', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_views')),
        sa.UniqueConstraint('owner_id', 'name', name='uq_saved_views_owner_name'),
    )
    op.create_index(op.f('ix_saved_views_owner_id'), 'saved_views', ['owner_id'])
    op.create_table(
        'bulk_assign_jobs',
        sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
        sa.Column('selection', JSON, nullable=False),
        sa.Column('writes', JSON, nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('cancel_requested', sa.Boolean(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('processed', sa.Integer(), nullable=False),
        sa.Column('cursor', sa.String(255), nullable=True),
        sa.Column('outcomes', JSON, nullable=False),
        sa.Column('overruled_by', JSON, nullable=False),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('requested_by', sa.String(200), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('started_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('finished_at', UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_assign_jobs')),
    )


def downgrade() -> None:
    op.drop_table('bulk_assign_jobs')
    op.drop_index(op.f('ix_saved_views_owner_id'), table_name='saved_views')
    op.drop_table('saved_views')
    op.drop_index('ix_customers_name_external_id', table_name='customers')
