"""The consumer's event ids indexed by when they were recorded, so that the clean-up deletes the
oldest (`shared.consumer.forget_processed_events`) without reading the whole table.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 21:45:00.000000
"""

from collections.abc import Sequence

from shared.migrations import drop_processed_events_time_index, index_processed_events_time

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    index_processed_events_time()


def downgrade() -> None:
    drop_processed_events_time_index()
