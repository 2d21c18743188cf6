"""Messages: what the sender was asked to send and what became of it, the local transport's outbox,
and the service-tips consent the sender checks.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import shared.columns

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, shared.columns.UtcDateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int, nullable: bool = True) -> sa.Column:
    return sa.Column(name, AutoString(length=length), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table('customer') as batch:
        batch.add_column(sa.Column('consent_service_tips_sms', sa.Boolean(), nullable=True))
        batch.add_column(_time('consent_service_tips_sms_at'))
    op.create_table('message',
    _text('id', 36, nullable=False),
    _text('member_id', 36, nullable=False),
    _text('source', 80, nullable=False),
    _text('occasion', 100, nullable=False),
    _text('campaign_id', 36),
    _text('notification_id', 64, nullable=False),
    _text('channel', 8, nullable=False),
    _text('template', 64, nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    _text('language', 8, nullable=False),
    sa.Column('marketing', sa.Boolean(), nullable=False),
    _text('requires_consent', 32),
    _text('status', 16, nullable=False),
    _text('reason', 500),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    _time('not_before', nullable=False),
    _time('created_at', nullable=False),
    _time('sent_at'),
    _time('delivered_at'),
    _time('failed_at'),
    _time('cancelled_at'),
    _time('read_at'),
    _text('transport_ref', 100),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id', 'source', 'occasion', name='uq_message_once'),
    )
    op.create_index('ix_message_due', 'message', ['status', 'not_before'])
    op.create_index('ix_message_member', 'message', ['member_id', 'created_at'])
    op.create_index('ix_message_campaign', 'message', ['campaign_id', 'status'])
    op.create_table('local_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    _text('message_id', 36, nullable=False),
    _text('member_id', 36, nullable=False),
    _text('channel', 8, nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    _time('sent_at', nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id'),
    )
    op.create_index('ix_local_outbox_member_id', 'local_outbox', ['member_id'])
    op.create_index('ix_local_outbox_sent_at', 'local_outbox', ['sent_at'])


def downgrade() -> None:
    op.drop_index('ix_local_outbox_sent_at', table_name='local_outbox')
    op.drop_index('ix_local_outbox_member_id', table_name='local_outbox')
    op.drop_table('local_outbox')
    op.drop_index('ix_message_campaign', table_name='message')
    op.drop_index('ix_message_member', table_name='message')
    op.drop_index('ix_message_due', table_name='message')
    op.drop_table('message')
    with op.batch_alter_table('customer') as batch:
        batch.drop_column('consent_service_tips_sms_at')
        batch.drop_column('consent_service_tips_sms')
