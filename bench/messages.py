"""Sender benchmark: message requests recorded and handed to the transport, on PostgreSQL.

Starts an embedded PostgreSQL, migrates a campaigns database with the service's own migrations and
bulk-inserts customers with SMS consent. Then, in this process and through the service's own code:

- intake: campaigns' `notification_requested` events for every customer (as a launch asks for
  them) go through the campaigns consumer's `apply_batch`, `consumer_batch_size` events per
  transaction, as the broker's records would: dedupe, consent, weekly cap, rendering, one message
  row each;
- dispatch: the `message-dispatch` job hands every queued message to the local outbox transport.

Raw limits measured in the same run: the message rows and the outbox rows read back and inserted
again into copies of their tables (same columns and indexes), one executemany per batch. The goal
(at least 500 messages/s recorded and handed to the transport) is judged on the two stages
together. Time is reported, never asserted.

    .venv/bin/python bench/messages.py [--messages 100000]

Exit code 0 whether the goal is met or not; 2 if a correctness check failed, 1 if the benchmark
could not run, 130 on Ctrl-C. Everything it starts is stopped by process id when it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from _support import PrivateStack, cpu_seconds, insert_copy, log, run_bench

from shared.auth import generate_keypair
from shared.migrations import upgrade

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
GOAL_PER_S = 500.0
NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: outside quiet hours
SEED_BATCH = 10_000
RAW_BATCH = 1_000


async def seed(sessions: Any, customers: int) -> None:
    from sqlalchemy import insert

    from campaigns.service_layer.segments import CUSTOMERS

    async with sessions() as s, s.begin():
        for start in range(0, customers, SEED_BATCH):
            await s.exec(insert(CUSTOMERS), params=[{
                "member_id": f"m{i:07d}", "registered_at": NOW - timedelta(days=400), "channel": "retail",
                "home_store_id": "S001", "community_id": "C001", "tier": "member", "attributes_as_of": NOW,
                "lifetime_spend": Decimal("0.00"), "consent_sms": True, "consent_sms_at": NOW,
            } for i in range(start, min(start + SEED_BATCH, customers))])


def requests(customers: int, campaign_id: str) -> list[Any]:
    from shared.events import contracts as c
    from shared.events.envelope import new_event
    from shared.events.registry import CAMPAIGN_NOTIFICATION_REQUESTED

    return [new_event(CAMPAIGN_NOTIFICATION_REQUESTED, c.CampaignNotificationRequestedV1(
        notification_id=str(uuid.uuid4()), member_id=f"m{i:07d}", campaign_id=campaign_id, occasion="once",
        template="coupon_offer", channel="sms", requires_consent="marketing_sms", requested_at=NOW,
        params={"offer": "满100减20"},
    ), source="crm/campaigns", subject=f"m{i:07d}") for i in range(customers)]


async def raw_insert(stack: PrivateStack, table: str) -> float:
    """Seconds to insert every row of `table` again into a copy of it, RAW_BATCH rows per executemany."""
    conn = await stack.connect()
    try:
        rows = await conn.fetch(f"SELECT * FROM {table}")
        await conn.execute(f"CREATE TABLE raw_{table} (LIKE {table} INCLUDING ALL)")
        return await insert_copy(conn, table, rows, RAW_BATCH)
    finally:
        await conn.close()


async def run(args: argparse.Namespace, stack: PrivateStack, results: dict[str, Any]) -> None:
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlmodel.ext.asyncio.session import AsyncSession

    import campaigns
    from campaigns.config import Settings
    from campaigns.consumers import batch_handlers, handlers
    from campaigns.jobs import message_dispatch
    from shared.commands import Commands
    from shared.consumer import EventConsumer

    stack.start_postgres()
    log(f"PostgreSQL pid {stack.pg_pid}")
    await stack.create_databases(stack.database)
    await asyncio.to_thread(upgrade, Path(campaigns.__file__).parent / "migrations", stack.db_url)
    settings = Settings(environment="test", database_url=stack.db_url, auto_migrate=False, jobs_enabled=False,
                        jwt_public_key=generate_keypair()[1], log_level="WARNING", log_json=False)
    engine = create_async_engine(stack.db_url)
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    clock = lambda: NOW  # noqa: E731
    try:
        await seed(sessions, args.messages)
        events = requests(args.messages, str(uuid.uuid4()))
        log(f"seeded {args.messages} customers with SMS consent and built as many requests")
        consumer = EventConsumer(settings, sessions, handlers(settings, clock), batch_handlers=batch_handlers(settings, clock),
                                 clock=clock)
        deliveries = [consumer.delivery(e) for e in events]
        me, pg = os.getpid(), stack.pg_pid

        cpu = (cpu_seconds(me), cpu_seconds(pg, children=True))
        t = time.perf_counter()
        size = settings.consumer_batch_size
        for start in range(0, len(deliveries), size):
            await consumer.apply_batch(deliveries[start:start + size])  # type: ignore[arg-type]
        results["intake"] = stage(args.messages, time.perf_counter() - t, cpu, me, pg)
        log(f"intake: {results['intake']['per_s']:.0f} messages/s")

        cpu = (cpu_seconds(me), cpu_seconds(pg, children=True))
        t = time.perf_counter()
        outcome = await message_dispatch(Commands(sessions, settings, clock=clock), settings, NOW)
        results["dispatch"] = stage(args.messages, time.perf_counter() - t, cpu, me, pg)
        log(f"dispatch: {results['dispatch']['per_s']:.0f} messages/s ({outcome})")
        if outcome.get("sent") != args.messages:
            results.setdefault("errors", []).append(f"dispatch sent {outcome.get('sent')} of {args.messages}: {outcome}")

        conn = await stack.connect()
        try:
            counted = await conn.fetchval("SELECT count(*) FROM local_outbox")
            statuses = dict(await conn.fetch("SELECT status, count(*) FROM message GROUP BY status"))
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()
        if counted != args.messages or statuses != {"sent": args.messages}:
            results.setdefault("errors", []).append(f"outbox {counted} rows, messages {statuses}")
        results["raw_message_s"] = await raw_insert(stack, "message")
        results["raw_outbox_s"] = await raw_insert(stack, "local_outbox")
    finally:
        await engine.dispose()


def stage(n: int, seconds: float, cpu_before: tuple[float, float], me: int, pg: int | None) -> dict[str, float]:
    return {"seconds": seconds, "per_s": n / seconds,
            "cpu_ms_per_1000": {"sender": (cpu_seconds(me) - cpu_before[0]) * 1e6 / n,
                                "postgres": (cpu_seconds(pg, children=True) - cpu_before[1]) * 1e6 / n}}


def report(args: argparse.Namespace, results: dict[str, Any]) -> bool:
    if "raw_outbox_s" not in results:
        return not results.get("errors")
    n = args.messages
    lines = [f"\nSender on PostgreSQL, {n} messages (SMS, marketing consent, local outbox transport)"]
    for name, raw in (("intake", results["raw_message_s"]), ("dispatch", results["raw_outbox_s"])):
        r = results[name]
        cpu = r["cpu_ms_per_1000"]
        lines.append(f"  {name:<9} {r['seconds']:6.1f} s  {r['per_s']:7.0f} messages/s  "
                     f"CPU ms per 1000: sender {cpu['sender']:.0f}, postgres {cpu['postgres']:.0f}")
        lines.append(f"    raw limit: the {'message' if name == 'intake' else 'outbox'} rows inserted again in {raw:.2f} s "
                     f"({n / raw:.0f} rows/s); {name} / raw = {r['seconds'] / raw:.1f}x")
    total = results["intake"]["seconds"] + results["dispatch"]["seconds"]
    verdict = "MET" if n / total >= GOAL_PER_S else "MISS"
    lines.append(f"  recorded and handed over: {n / total:.0f} messages/s (goal >= {GOAL_PER_S:.0f}/s: {verdict})")
    for error in results.get("errors", []):
        lines.append(f"  CHECK FAILED: {error}")
    print("\n".join(lines), flush=True)
    return not results.get("errors")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000, help="customers, one message each (default 100000)")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (database files)")
    args = parser.parse_args()

    stack = PrivateStack(Path(tempfile.mkdtemp(prefix="crm-bench-messages-")), "campaigns")
    results: dict[str, Any] = {}
    code = run_bench(stack, lambda: run(args, stack, results), keep=args.keep)
    if not report(args, results) and code == 0:
        code = 2
    return code


if __name__ == "__main__":
    sys.exit(main())
