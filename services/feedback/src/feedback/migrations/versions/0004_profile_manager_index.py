"""member_profile by account manager: reassigning a complaint to a staff id checks that members
assigned them customers, one look-up by manager among every member's profile.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 16:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('member_profile', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_profile_manager_id'), ['manager_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('member_profile', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_profile_manager_id'))
