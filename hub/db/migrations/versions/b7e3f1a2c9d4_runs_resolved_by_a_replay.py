"""runs resolved by a replay

A failed run names the replay that then ran through (``resolved_by_id``), so the run log can
leave failures already dealt with out of ``status=failed``. Failed runs replayed before this
revision are marked from their replays: the first that did not fail resolves them, and the
failed replays of a run so resolved with it.

Revision ID: b7e3f1a2c9d4
Revises: 9d4e2b7c1a53
Create Date: 2026-12-08 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'b7e3f1a2c9d4'
down_revision = '9d4e2b7c1a53'
branch_labels = None
depends_on = None

# Frozen here on purpose (hub.services.processing.replay.RESOLVING may change; this migration must not).
FIRST_RESOLVING_REPLAY = """
    SELECT MIN(replay.id) FROM recipe_runs AS replay
    WHERE replay.replay_of_id = recipe_runs.id
      AND replay.status IN ('succeeded', 'partial', 'skipped')
"""


def upgrade() -> None:
    with op.batch_alter_table('recipe_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_recipe_runs_resolved_by_id_recipe_runs'),
                                    'recipe_runs', ['resolved_by_id'], ['id'], ondelete='SET NULL')
    # A failed run never replayed gets NULL, which the new column holds already.
    op.execute(f"UPDATE recipe_runs SET resolved_by_id = ({FIRST_RESOLVING_REPLAY}) WHERE status = 'failed'")
    # Earlier failed replays of a resolved run are the same failure, resolved by the same replay.
    op.execute("UPDATE recipe_runs SET resolved_by_id = (SELECT original.resolved_by_id FROM recipe_runs "
               "AS original WHERE original.id = recipe_runs.replay_of_id) "
               "WHERE status = 'failed' AND resolved_by_id IS NULL AND replay_of_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('recipe_runs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_recipe_runs_resolved_by_id_recipe_runs'), type_='foreignkey')
        batch_op.drop_column('resolved_by_id')
