"""import parts finished

An import's parts run as Celery tasks of their own (hub.services.imports.run); each records on
the import that it has ended, and the one that completes the list closes the import. An import
left running by a release before this revision has no part finished: each part resumes after
its last committed line, as before.

Revision ID: e4a7c2f9b1d6
Revises: b7e3f1a2c9d4
Create Date: 2026-12-12 09:00:00.000000
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'e4a7c2f9b1d6'
down_revision = 'b7e3f1a2c9d4'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('finished_parts', JSON, nullable=False, server_default='[]'))
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.alter_column('finished_parts', server_default=None)


def downgrade() -> None:
    # The older release runs every unfinished import's parts again from their last committed
    # lines: a part that had applied all its lines skips them all, so none is applied twice.
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.drop_column('finished_parts')
