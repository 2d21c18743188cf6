"""Staff accounts with the audit trail of their changes, and staff sessions (refresh token families).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('staff_account',
    sa.Column('staff_id', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('login', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('account_manager_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('totp_secret', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('totp_enabled', sa.Boolean(), nullable=False),
    sa.Column('totp_last_step', sa.BigInteger(), nullable=True),
    sa.Column('created_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('deactivated_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('staff_id'),
    sa.UniqueConstraint('login')
    )
    op.create_index(op.f('ix_staff_account_store_id'), 'staff_account', ['store_id'], unique=False)
    op.create_table('staff_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('actor_role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('staff_id', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_staff_audit_staff_at', 'staff_audit', ['staff_id', 'at'], unique=False)
    op.create_table('staff_session',
    sa.Column('family_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('staff_id', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('created_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('revoked_because', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.PrimaryKeyConstraint('family_id')
    )
    op.create_index(op.f('ix_staff_session_staff_id'), 'staff_session', ['staff_id'], unique=False)
    op.create_table('staff_refresh_token',
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('family_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('issued_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('rotated_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index(op.f('ix_staff_refresh_token_family_id'), 'staff_refresh_token', ['family_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_staff_refresh_token_family_id'), table_name='staff_refresh_token')
    op.drop_table('staff_refresh_token')
    op.drop_index(op.f('ix_staff_session_staff_id'), table_name='staff_session')
    op.drop_table('staff_session')
    op.drop_index('ix_staff_audit_staff_at', table_name='staff_audit')
    op.drop_table('staff_audit')
    op.drop_index(op.f('ix_staff_account_store_id'), table_name='staff_account')
    op.drop_table('staff_account')
