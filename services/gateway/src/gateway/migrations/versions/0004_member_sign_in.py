"""Members' sign-in by SMS code: the current code per phone digest, the refresh tokens issued, and
the erased members whose tokens are refused.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('member_sign_in_code',
    sa.Column('phone_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('code_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('tries_left', sa.Integer(), nullable=False),
    sa.Column('used_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('phone_digest')
    )
    op.create_index(op.f('ix_member_sign_in_code_expires_at'), 'member_sign_in_code', ['expires_at'], unique=False)
    op.create_table('member_refresh_token',
    sa.Column('token_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('family_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('issued_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('used_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('token_digest')
    )
    op.create_index('ix_member_refresh_token_family', 'member_refresh_token', ['family_id'], unique=False)
    op.create_index('ix_member_refresh_token_member', 'member_refresh_token', ['member_id'], unique=False)
    op.create_index(op.f('ix_member_refresh_token_expires_at'), 'member_refresh_token', ['expires_at'], unique=False)
    op.create_table('revoked_member',
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('erased_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('member_id')
    )
    op.create_index(op.f('ix_revoked_member_erased_at'), 'revoked_member', ['erased_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_revoked_member_erased_at'), table_name='revoked_member')
    op.drop_table('revoked_member')
    op.drop_index(op.f('ix_member_refresh_token_expires_at'), table_name='member_refresh_token')
    op.drop_index('ix_member_refresh_token_member', table_name='member_refresh_token')
    op.drop_index('ix_member_refresh_token_family', table_name='member_refresh_token')
    op.drop_table('member_refresh_token')
    op.drop_index(op.f('ix_member_sign_in_code_expires_at'), table_name='member_sign_in_code')
    op.drop_table('member_sign_in_code')
