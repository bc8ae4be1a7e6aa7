"""sign-in and web sessions

Users may sign in to the pages: an argon2 password hash, failed attempts towards a lockout, an
invite token's hash; a signed-in browser is a web_sessions row holding its token's hash and the
CSRF token its forms echo.

Revision ID: c5d8e1f3a7b2
Revises: e4a7c2f9b1d6
Create Date: 2026-12-20 09:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

from hub.db.types import UTCDateTime

revision = 'c5d8e1f3a7b2'
down_revision = 'e4a7c2f9b1d6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_hash', sa.String(200), nullable=True))
        batch_op.add_column(sa.Column('failed_sign_ins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('invite_hash', sa.String(64), nullable=True))
        batch_op.add_column(sa.Column('invite_expires_at', UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint("uq_users_invite_hash", ["invite_hash"])
    op.create_table(
        'web_sessions',
        sa.Column('token_hash', sa.String(64), primary_key=True),
        sa.Column('user_id', sa.String(36), sa.ForeignKey('users.id', ondelete='CASCADE'), nullable=False),
        sa.Column('csrf_token', sa.String(64), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_web_sessions_user_id', 'web_sessions', ['user_id'])


def downgrade() -> None:
    op.drop_index('ix_web_sessions_user_id', table_name='web_sessions')
    op.drop_table('web_sessions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('uq_users_invite_hash', type_='unique')
        for column in ('invite_expires_at', 'invite_hash', 'locked_until', 'failed_sign_ins', 'password_hash'):
            batch_op.drop_column(column)
