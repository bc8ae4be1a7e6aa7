"""import progress per part

An import is split into parts by customer, applied side by side; each part resumes from its own
last committed line (hub.services.imports.parts). An import started before this revision keeps
its progress as a single part.

Revision ID: 5b1d0c7e9a21
Revises: 875e0282f3ba
Create Date: 2026-11-22 14:10:00.000000
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '5b1d0c7e9a21'
down_revision = '875e0282f3ba'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_lines', JSON, nullable=False, server_default='[]'))
    as_json = "'[' || CAST(last_line AS VARCHAR) || ']'"  # SQLite keeps JSON as text
    if op.get_bind().dialect.name == 'postgresql':
        as_json = f"CAST({as_json} AS JSONB)"
    op.execute(f"UPDATE imports SET last_lines = {as_json}")
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.alter_column('last_lines', server_default=None)
        batch_op.drop_column('last_line')


def downgrade() -> None:
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_line', sa.Integer(), nullable=False, server_default='0'))
    # Several parts cannot be told apart by one number: resume from where every part had got.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE imports SET last_line = COALESCE((SELECT MIN(CAST(v AS INTEGER)) "
                   "FROM jsonb_array_elements_text(last_lines) AS v), 0)")
    else:
        op.execute("UPDATE imports SET last_line = COALESCE((SELECT MIN(value) "
                   "FROM json_each(imports.last_lines)), 0)")
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.alter_column('last_line', server_default=None)
        batch_op.drop_column('last_lines')
