"""`python -m campaigns.offer_eval`: recall, precision and NDCG at 10 of the personal offer lists
against the two baselines, on generated members or on a campaigns database's item history.

    python -m campaigns.offer_eval --generated 10000
    python -m campaigns.offer_eval --database-url sqlite+aiosqlite:///.crm-data/campaigns.db [--at 2026-11-17]

Without either, it reads the campaigns database of CRM_DATABASE_URL / CRM_DATA_DIR (the running
platform's), split 14 days before its latest sale unless `--at` says otherwise.
"""

import argparse
import asyncio
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from datetime import time as day_start

from campaigns.config import Settings
from campaigns.domain.offers import HORIZON_DAYS
from campaigns.offer_eval import generator
from campaigns.offer_eval.evaluate import Purchase, evaluate, report, split
from campaigns.service_layer import item_history
from shared.db import make_engine, make_sessionmaker

HISTORY_DAYS = 365


def generated(n: int, seed: int) -> tuple[Iterator[Purchase], int]:
    rows = ((s.member_id, day, p.sku, p.category) for s in generator.shoppers(n, seed) for day, p, _ in s.purchases)
    return rows, generator.HISTORY_DAYS


async def stored(url: str, at: date | None, settings: Settings) -> tuple[list[Purchase], int]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            last = await item_history.latest(session)
            if last is None:
                raise SystemExit("no item history in that database: load sales first (crm run --demo)")
            zone = settings.zone
            at = at or (last.astimezone(zone).date() - timedelta(days=HORIZON_DAYS - 1))
            start = datetime.combine(at, day_start(), zone)
            lines = await item_history.lines_of(session, start - timedelta(days=HISTORY_DAYS),
                                                start + timedelta(days=HORIZON_DAYS))
    finally:
        await engine.dispose()
    print(f"{len(lines)} kept lines of sales, split at {at.isoformat()} ({settings.business_timezone})")
    return [(ln.member_id, ln.occurred_at.astimezone(zone).date().toordinal(), ln.sku, ln.category) for ln in lines], at.toordinal()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m campaigns.offer_eval", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--generated", type=int, metavar="MEMBERS", help="members of the generator (deterministic)")
    source.add_argument("--database-url", help="a campaigns database (default: the platform's own)")
    parser.add_argument("--seed", type=int, default=20261201, help="the generator's seed")
    parser.add_argument("--at", type=date.fromisoformat, help="the split date (database only; default: 14 days before the latest sale)")
    parser.add_argument("--level", choices=["sku", "category"], default="sku", help="judge SKUs or categories")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.generated is not None:
        rows, at = generated(args.generated, args.seed)
        print(f"generated {args.generated} members (seed {args.seed}), split at day {at}")
    else:
        settings = Settings()
        rows, at = asyncio.run(stored(args.database_url or settings.database, args.at, settings))  # type: ignore[assignment]
    members = split(rows, at, HORIZON_DAYS, f"{args.level}:")
    figures = evaluate(members, at, HORIZON_DAYS, 10, f"{args.level}:")
    print(f"level: {args.level}; horizon: {HORIZON_DAYS} days; k = 10")
    print(report(figures))
    print(f"({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
