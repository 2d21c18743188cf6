"""Complaints with history and escalations, member projection, surveys (with a default template),
comment book.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:05:49.599059
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import shared.columns

DEFAULT_TEMPLATE_ID = "00000000-0000-4000-8000-000000000001"

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('complaint',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('sale_store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('sale_pos_txn_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('assignee', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('auto_assigned', sa.Boolean(), nullable=False),
    sa.Column('escalated_to', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('filed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('filed_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ack_due_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('resolve_due_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('next_due_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('resolution_note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('compensation_points', sa.Integer(), nullable=False),
    sa.Column('coupon_value', shared.columns.MoneyColumn(), nullable=True),
    sa.Column('compensated_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rating_comment', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('rated_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('erased_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('filed_by', 'idempotency_key', name='uq_complaint_idempotency')
    )
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_escalated_to'), ['escalated_to'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_complaint_queue', ['assignee', 'next_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_status'), ['status'], unique=False)
        batch_op.create_index('ix_complaint_store_queue', ['store_id', 'next_due_at'], unique=False)

    op.create_table('member_profile',
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('tier', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('manager_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('home_store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('updated_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('erased_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('member_id')
    )
    op.create_table('survey_template',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('dimensions', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('ask_nps', sa.Boolean(), nullable=False),
    sa.Column('ask_comment', sa.Boolean(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('comment_book_entry',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('complaint_id', sa.String(length=36), nullable=True),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('recorded_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('linked_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('linked_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('comment_book_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_book_entry_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comment_book_entry_store_id'), ['store_id'], unique=False)

    op.create_table('complaint_escalation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.String(length=36), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('due_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('escalated_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('escalated_to', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('complaint_id', 'step', 'round', name='uq_escalation_once')
    )
    op.create_table('complaint_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.String(length=36), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('complaint_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_history_complaint_id'), ['complaint_id'], unique=False)

    op.create_table('survey_invitation',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('template_id', sa.String(length=36), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('source_ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', shared.columns.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['template_id'], ['survey_template.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_ref'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('survey_invitation', schema=None) as batch_op:
        batch_op.create_index('ix_invitation_store_month', ['store_id', 'month'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_invitation_member_id'), ['member_id'], unique=False)

    op.create_table('survey_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.String(length=36), nullable=False),
    sa.Column('product_quality', sa.Integer(), nullable=True),
    sa.Column('service', sa.Integer(), nullable=True),
    sa.Column('price', sa.Integer(), nullable=True),
    sa.Column('store_environment', sa.Integer(), nullable=True),
    sa.Column('after_sales', sa.Integer(), nullable=True),
    sa.Column('nps', sa.Integer(), nullable=True),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('answered_at', shared.columns.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['survey_invitation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('invitation_id')
    )
    # Automatic invitations need a template from the first day; marketing can add others.
    template = sa.table(
        'survey_template', sa.column('id', sa.String), sa.column('name', sa.String), sa.column('dimensions', sa.String),
        sa.column('ask_nps', sa.Boolean), sa.column('ask_comment', sa.Boolean), sa.column('is_default', sa.Boolean),
        sa.column('created_by', sa.String), sa.column('created_at', shared.columns.UtcDateTime()),
    )
    op.bulk_insert(template, [{
        'id': DEFAULT_TEMPLATE_ID, 'name': '标准满意度调查 Standard satisfaction survey',
        'dimensions': 'product_quality,service,price,store_environment,after_sales', 'ask_nps': True,
        'ask_comment': True, 'is_default': True, 'created_by': 'system',
        'created_at': datetime(2026, 11, 23, tzinfo=UTC),
    }])


def downgrade() -> None:
    op.drop_table('survey_response')
    with op.batch_alter_table('survey_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_invitation_member_id'))
        batch_op.drop_index('ix_invitation_store_month')

    op.drop_table('survey_invitation')
    with op.batch_alter_table('complaint_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_history_complaint_id'))

    op.drop_table('complaint_history')
    op.drop_table('complaint_escalation')
    with op.batch_alter_table('comment_book_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_book_entry_store_id'))
        batch_op.drop_index(batch_op.f('ix_comment_book_entry_member_id'))

    op.drop_table('comment_book_entry')
    op.drop_table('survey_template')
    op.drop_table('member_profile')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_store_queue')
        batch_op.drop_index(batch_op.f('ix_complaint_status'))
        batch_op.drop_index('ix_complaint_queue')
        batch_op.drop_index(batch_op.f('ix_complaint_member_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_escalated_to'))

    op.drop_table('complaint')
