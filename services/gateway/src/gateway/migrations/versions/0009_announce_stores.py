"""Announces, once, the stores saved before every save was announced (`store_changed`): campaigns
names stores in customer messages from these events, and would otherwise call a store kept from
before by its id until someone saved it again. The outbox rows are published as any others.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 07:30:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import shared.columns
from shared.events import contracts as c
from shared.events.envelope import new_event
from shared.events.registry import STORE_CHANGED
from shared.outbox import outbox_row

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STORE = sa.table('store', sa.column('store_id'), sa.column('name'), sa.column('city'), sa.column('active'))
OUTBOX = sa.table(
    'outbox', sa.column('event_id'), sa.column('event_type'), sa.column('topic'), sa.column('key'),
    sa.column('envelope'), sa.column('created_at', shared.columns.UtcDateTime(timezone=True)),
)


def upgrade() -> None:
    now = datetime.now(UTC)
    stores = op.get_bind().execute(sa.select(STORE.c.store_id, STORE.c.name, STORE.c.city, STORE.c.active)
                                   .order_by(STORE.c.store_id)).all()
    rows = [
        outbox_row(new_event(STORE_CHANGED, c.StoreChangedV1(store_id=store_id, name=name, city=city or "",
                                                             active=bool(active), changed_at=now),
                             source="crm/gateway", subject=store_id), store_id)
        for store_id, name, city, active in stores
    ]
    if rows:
        op.bulk_insert(OUTBOX, rows)


def downgrade() -> None:
    # What was announced stays announced: the events may have been published already.
    pass
