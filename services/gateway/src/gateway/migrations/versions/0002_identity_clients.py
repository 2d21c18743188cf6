"""Client credentials of tills and services, and the audit trail of their changes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 08:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('identity_client',
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('secret_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('rotated_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('client_id')
    )
    op.create_index(op.f('ix_identity_client_store_id'), 'identity_client', ['store_id'], unique=False)
    op.create_table('identity_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('actor_role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_identity_audit_client_at', 'identity_audit', ['client_id', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_identity_audit_client_at', table_name='identity_audit')
    op.drop_table('identity_audit')
    op.drop_index(op.f('ix_identity_client_store_id'), table_name='identity_client')
    op.drop_table('identity_client')
