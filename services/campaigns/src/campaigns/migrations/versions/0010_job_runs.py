"""The record of scheduled-job runs (shared.job_runs), read by GET /v1/jobs across replicas and
restarts.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 15:00:00.000000
"""

from collections.abc import Sequence

from shared.migrations import create_job_runs_table, drop_job_runs_table

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_job_runs_table()


def downgrade() -> None:
    drop_job_runs_table()
