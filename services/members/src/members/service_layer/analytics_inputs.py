"""A digest of everything the `value-analytics` job reads, so a rerun over unchanged data can
stand on the last run's results instead of scoring 100,000 members again to the same answer.

The job's results follow from its clock, its settings and four tables: the members (segment
attributes, erasure), their purchases (sales, late matches, returns), their complaints, and the
snapshots themselves (the last publication of each member, which the complaint consumer also
changes). The digest covers every column of every row of those tables, hashed by PostgreSQL
(`hashtextextended` of the row's text, summed per table), so any change by any writer - a sale,
a return, a profile edit, an erasure, a complaint - gives a new digest; nothing depends on
knowing which columns or writers matter. A run stores the digest of the state it leaves (the
snapshots as it wrote them); a rerun whose digest, clock and settings are the same would change
nothing and publish nothing, so it records the stored results as its own.

PostgreSQL only: SQLite has no hash function, and its chains are small enough to score again.
"""

import hashlib
import json
from datetime import datetime

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from members.config import Settings
from shared.db import is_postgresql

# What the job reads; `member_value` is also what it writes, so it is digested after the run.
READ = ("member", "purchase", "member_complaint")
WRITTEN = "member_value"
# The settings the results depend on: the window, the 80/20 boundaries, churn, the business day.
SETTINGS = ("analytics_window_days", "analytics_key_share", "analytics_secondary_share", "analytics_top_fraction",
            "churn_medium_ratio", "churn_high_ratio", "churn_lost_ratio", "churn_min_interval_days",
            "churn_complaint_days", "business_timezone")


async def table_digests(session: AsyncSession, tables: tuple[str, ...]) -> dict[str, str] | None:
    """Per table, its row count and the sum of its rows' 64-bit hashes; None on SQLite."""
    if not is_postgresql(session):
        return None
    found = {}
    for table in tables:  # names from the constants above, never from input
        count, total = (await session.exec(text(  # type: ignore[call-overload]
            f"SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0) FROM {table} AS t"
        ))).one()
        found[table] = f"{count}:{total}"
    return found


def run_key(now: datetime, settings: Settings, tables: dict[str, str]) -> str:
    """The key a run's results are stored under: its clock, its settings and its tables."""
    chosen = settings.model_dump(mode="json", include=set(SETTINGS))
    material = json.dumps({"as_of": now.isoformat(), "settings": chosen, "tables": tables}, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()
