"""field ownership on the customer row

Who owns each assignment field moves from the field_assignments table into a JSON column of the
customer, {field: {"source": ..., "changedAt": ...}}: the assignment service reads and writes it
under the customer's row lock, instead of reading, inserting and key-checking a row per field.
Existing ownership is carried over; the downgrade puts it back.

Revision ID: 147a56852c9d
Revises: 5b1d0c7e9a21
Create Date: 2026-11-22 14:34:34.180316
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.db.types

revision = '147a56852c9d'
down_revision = '5b1d0c7e9a21'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')

# Per customer, its field_assignments rows as one JSON object (times in UTC, ISO 8601).
TO_JSON = {
    'postgresql': """
        UPDATE customers SET ownership = owned.ownership FROM (
            SELECT customer_id, jsonb_object_agg(field, jsonb_build_object(
                'source', source, 'changedAt',
                to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')
            )) AS ownership
            FROM field_assignments GROUP BY customer_id
        ) AS owned WHERE customers.id = owned.customer_id""",
    'sqlite': """
        UPDATE customers SET ownership = (
            SELECT json_group_object(field, json_object('source', source, 'changedAt', changed_at))
            FROM field_assignments WHERE field_assignments.customer_id = customers.id
        ) WHERE id IN (SELECT customer_id FROM field_assignments)""",
}


def upgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ownership', JSON, nullable=False, server_default='{}'))
    op.execute(TO_JSON[op.get_bind().dialect.name])
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.alter_column('ownership', server_default=None)
    op.drop_table('field_assignments')


def downgrade() -> None:
    customers = sa.table('customers', sa.column('id', sa.String()), sa.column('ownership', JSON))
    owned = op.get_bind().execute(sa.select(customers.c.id, customers.c.ownership)).all()
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('ownership')
    table = op.create_table(
        'field_assignments',
        sa.Column('customer_id', sa.String(length=36), nullable=False),
        sa.Column('field', sa.String(length=200), nullable=False),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('changed_at', hub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', hub.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_field_assignments_customer_id_customers'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('customer_id', 'field', name=op.f('pk_field_assignments')),
    )
    now = datetime.now(timezone.utc)
    rows = [{'customer_id': cid, 'field': name, 'source': owner['source'],
             'changed_at': _aware(owner['changedAt']), 'updated_at': now}
            for cid, ownership in owned for name, owner in (ownership or {}).items()]
    if rows:
        op.bulk_insert(table, rows)


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
