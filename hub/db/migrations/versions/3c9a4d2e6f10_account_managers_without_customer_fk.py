"""account managers without a foreign key to customers

The link table is written only by the assignment service, for a customer it holds locked, and
the hub never deletes customers: the key's per-row check was a fifth of the database's work in
a CSV import. See hub.db.models.customers.CustomerAccountManager.

Revision ID: 3c9a4d2e6f10
Revises: 147a56852c9d
Create Date: 2026-11-22 15:40:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '3c9a4d2e6f10'
down_revision = '147a56852c9d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customer_account_managers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_customer_account_managers_customer_id_customers'),
                                 type_='foreignkey')


def downgrade() -> None:
    # Rows of customers deleted by hand while the key was away would stop the key coming back.
    op.execute(sa.text("DELETE FROM customer_account_managers WHERE customer_id NOT IN "
                       "(SELECT id FROM customers)"))
    with op.batch_alter_table('customer_account_managers', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_customer_account_managers_customer_id_customers'),
                                    'customers', ['customer_id'], ['id'], ondelete='CASCADE')
