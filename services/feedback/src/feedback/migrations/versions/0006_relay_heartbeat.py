"""The offset of the outbox relay's latest heartbeat (shared.outbox.RelayHeartbeat), kept so that a
relay started after the broker lost its log still notices it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 21:30:00.000000
"""

from collections.abc import Sequence

from shared.migrations import create_relay_heartbeat_table, drop_relay_heartbeat_table

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_relay_heartbeat_table()


def downgrade() -> None:
    drop_relay_heartbeat_table()
