"""run counts by status index

The run log page counts runs by status on every view, failures a replay resolved apart; an
index on (status, resolved_by_id) answers that GROUP BY from the index alone.

Revision ID: d2f9a6c4e8b1
Revises: c5d8e1f3a7b2
Create Date: 2026-12-09 10:00:00.000000
"""
from alembic import op

revision = 'd2f9a6c4e8b1'
down_revision = 'c5d8e1f3a7b2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_recipe_runs_status_resolved', 'recipe_runs', ['status', 'resolved_by_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_recipe_runs_status_resolved', table_name='recipe_runs')
