"""audit history without foreign key or cause index

The history is an append-only audit log written only by the assignment service, for a customer
it holds locked: the foreign key's per-row check cost more than the insert itself, and the
index on (cause_type, cause_id) served no query. See hub.db.models.customers.AssignmentHistory.

Revision ID: 875e0282f3ba
Revises: 22f6e9fc5054
Create Date: 2026-11-22 13:53:38.431598
"""
from alembic import op

revision = '875e0282f3ba'
down_revision = '22f6e9fc5054'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('assignment_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_history_cause'))
        batch_op.drop_constraint(batch_op.f('fk_assignment_history_customer_id_customers'),
                                 type_='foreignkey')


def downgrade() -> None:
    with op.batch_alter_table('assignment_history', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_assignment_history_customer_id_customers'),
                                    'customers', ['customer_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_assignment_history_cause'),
                              ['cause_type', 'cause_id'], unique=False)
