"""Replicas of a consumer share its partitions, and the effects stay exactly once while they change.

For each consuming service, two replicas run as separate processes against one PostgreSQL database
and one consumer group, on topics of several partitions, while a steady load of the events it
consumes is published. Under that load a third replica joins, one leaves (SIGTERM: it finishes its
batch and leaves the group) and one is killed (SIGKILL: the broker notices at the session
timeout). Afterwards every event has its effect once: not lost with a revoked partition, not
applied twice by the old and the new owner of a partition.
"""

import asyncio
import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from crm_cli.broker import free_port
from shared.auth import Role
from shared.events import contracts as c
from shared.events.binding import to_kafka
from shared.events.envelope import Envelope, new_event, sale_event_id
from shared.events.registry import NOTIFICATION_REQUESTED, PURCHASE_ATTRIBUTED, PURCHASE_MADE, REGISTRY
from tests.support.platform import PEPPER, TestEnv
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]

# Published per tick of the load: about 60 events a second, a few hundred over the test.
PER_TICK, TICK_S = 6, 0.1
MEMBERS = 20
# A consumer's group session: short, so the group notices a killed replica within seconds.
SESSION_TIMEOUT_MS, HEARTBEAT_MS = 3000, 300


@pytest.fixture
def backend() -> str:
    # Replicas share a database only on PostgreSQL; SQLite is the single-process set-up.
    return "postgres"


def _amount(i: int) -> Decimal:
    return Decimal(i % 7 + 1)


def _attributed(i: int) -> c.PurchaseAttributedV1:
    return c.PurchaseAttributedV1(
        member_id=f"m{i % MEMBERS}", sale_event_id=f"s{i}", store_id="S001", pos_txn_id=f"T{i}",
        occurred_at=datetime(2026, 11, 23, tzinfo=UTC), total=_amount(i),
        lines=[c.AttributedLine(sku="6901234567890", category="grain", qty=Decimal(1), amount=_amount(i))],
    )


def sale(env: TestEnv, till: str, i: int) -> Envelope:
    """A till's sale, as the gateway publishes it (its derived id, the till's credential)."""
    txn = f"S001-T01-{i:06d}"
    data = c.PurchaseMadeV1(
        store_id="S001", pos_txn_id=txn, occurred_at=datetime(2026, 11, 23, 2, tzinfo=UTC),
        customer=c.CustomerRef(card_no=f"C{i % MEMBERS:06d}"), payment="cash", total=_amount(i),
        lines=[c.SaleLine(sku="6901234567890", category="grain", qty=Decimal(1), unit_price=_amount(i), amount=_amount(i))],
    )
    return new_event(PURCHASE_MADE, data, source="pos/S001", subject=f"card:C{i % MEMBERS:06d}",
                     event_id=sale_event_id("S001", txn), credential=till)


def attributed(env: TestEnv, till: str, i: int) -> Envelope:
    member = f"m{i % MEMBERS}"
    return new_event(PURCHASE_ATTRIBUTED, _attributed(i), source="members", subject=member)


def attributed_or_notice(env: TestEnv, till: str, i: int) -> Envelope:
    """Campaigns: every other event a service message members asks the sender for."""
    if i % 2 == 0:
        return attributed(env, till, i)
    member = f"m{i % MEMBERS}"
    data = c.NotificationRequestedV1(
        notification_id=f"n{i}", member_id=member, template="service_tip", params={"tip": "牛奶周末特价"},
        requested_at=datetime(2026, 11, 23, tzinfo=UTC),
    )
    return new_event(NOTIFICATION_REQUESTED, data, source="members", subject=member)


@dataclass(frozen=True)
class Case:
    service: str
    event: Callable[[TestEnv, str, int], Envelope]
    # SQL count -> the count expected after n events were published
    effects: Callable[[int], dict[str, int]]
    settings: dict[str, str] = field(default_factory=dict)


CASES = [
    Case("members", sale, lambda n: {
        "SELECT count(*) FROM purchase": n,
        "SELECT count(DISTINCT pos_txn_id) FROM purchase": n,
        "SELECT coalesce(sum(total), 0) FROM purchase": sum(int(_amount(i) * 100) for i in range(n)),
    }),
    Case("points", attributed, lambda n: {
        "SELECT count(*) FROM points_ledger": n,
        "SELECT count(DISTINCT source_ref) FROM points_ledger": n,
        "SELECT coalesce(sum(balance), 0) FROM points_account": sum(int(_amount(i)) for i in range(n)),
    }),
    # Every sale sampled: one survey invitation per sale, each asked to be sent once.
    Case("feedback", attributed, lambda n: {
        "SELECT count(*) FROM survey_invitation": n,
        "SELECT count(DISTINCT source_ref) FROM survey_invitation": n,
        "SELECT count(*) FROM outbox WHERE event_type = 'crm.feedback.notification_requested.v1'": n,
    }, settings={"CRM_SURVEY_SAMPLE_RATE": "1"}),
    Case("campaigns", attributed_or_notice, lambda n: {
        "SELECT count(*) FROM customer_purchase": (n + 1) // 2,
        "SELECT count(*) FROM message": n // 2,
        "SELECT count(DISTINCT notification_id) FROM message": n // 2,
    }),
]


@dataclass
class Replica:
    proc: subprocess.Popen
    port: int

    async def assigned(self) -> bool:
        """Whether this replica holds partitions (its readiness report says so)."""
        try:
            async with httpx.AsyncClient(timeout=2.0) as client:
                r = await client.get(f"http://127.0.0.1:{self.port}/health/ready")
            return r.json().get("consumer") == "assigned"
        except (httpx.HTTPError, ValueError):
            return False

    async def ended(self, timeout: float) -> int:
        return await asyncio.wait_for(asyncio.to_thread(self.proc.wait), timeout)


def start(env: TestEnv, case: Case, url: str) -> Replica:
    port = free_port()
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CRM_")},
        "CRM_SERVICE_NAME": case.service, "CRM_ENVIRONMENT": "test", "CRM_DATABASE_URL": url,
        "CRM_KAFKA_BOOTSTRAP": env.broker.bootstrap, "CRM_KAFKA_TOPIC_PREFIX": env.prefix,  # type: ignore[union-attr]
        "CRM_KAFKA_SESSION_TIMEOUT_MS": str(SESSION_TIMEOUT_MS), "CRM_KAFKA_HEARTBEAT_INTERVAL_MS": str(HEARTBEAT_MS),
        # Small batches: many offset commits, so a rebalance lands between a batch and its commit.
        "CRM_CONSUMER_BATCH_SIZE": "20", "CRM_JWT_PUBLIC_KEY": env.public_key, "CRM_IDENTITY_PEPPER": PEPPER,
        "CRM_JOBS_ENABLED": "false", "CRM_OUTBOX_POLL_INTERVAL_S": "0.2", "CRM_LOG_LEVEL": "WARNING",
        **case.settings,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", f"{case.service}.main:create_app", "--factory", "--port", str(port),
         "--log-level", "warning"],
        env=environ,
    )
    return Replica(proc, port)


@contextlib.contextmanager
def replicas() -> Iterator[list[Replica]]:
    started: list[Replica] = []
    try:
        yield started
    finally:
        for replica in started:
            if replica.proc.poll() is None:
                replica.proc.kill()
                replica.proc.wait()


class Load:
    """Publishes the case's events at a steady pace until stopped; `sent` counts them."""

    def __init__(self, env: TestEnv, case: Case) -> None:
        self.env, self.case = env, case
        self.till = env.issuer.mint("replicas-S001-T01", Role.POS, store_id="S001")
        self.sent = 0
        self.partitions: dict[str, int] = {}
        self.stopping = asyncio.Event()

    async def run(self) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.env.broker.bootstrap, acks="all", linger_ms=5)  # type: ignore[union-attr]
        await producer.start()
        try:
            while not self.stopping.is_set():
                sends = []
                for i in range(self.sent, self.sent + PER_TICK):
                    envelope = self.case.event(self.env, self.till, i)
                    value, headers = to_kafka(envelope)
                    topic = self.env.prefix + REGISTRY[envelope.type].topic
                    if topic not in self.partitions:
                        self.partitions[topic] = len(await producer.partitions_for(topic))
                    sends.append(await producer.send(topic, value, key=(envelope.subject or "").encode(), headers=headers))
                await asyncio.gather(*sends)
                self.sent += PER_TICK
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), TICK_S)
        finally:
            await producer.stop()


async def _counts(engine: AsyncEngine, queries: list[str]) -> dict[str, int]:
    async with engine.connect() as conn:
        return {sql: int((await conn.execute(text(sql))).scalar_one()) for sql in queries}


async def test_effects_stay_exactly_once_while_replicas_join_leave_and_die(env: TestEnv, database_factory) -> None:
    """The four services at once, each on its own topics and database: the waits for group joins
    and session timeouts overlap instead of adding up."""
    # Made one after another: the session's migrated templates are built on first use.
    urls = [await database_factory(case.service) for case in CASES]
    outcomes = await asyncio.gather(*(churn(env, case, url) for case, url in zip(CASES, urls, strict=True)), return_exceptions=True)
    failures = [(case.service, outcome) for case, outcome in zip(CASES, outcomes, strict=True) if isinstance(outcome, BaseException)]
    if failures:
        raise AssertionError("\n".join(f"{service}: {type(exc).__name__}: {exc}" for service, exc in failures)) from failures[0][1]


async def churn(env: TestEnv, case: Case, url: str) -> None:
    """Two replicas of the case's service under load; a third joins, the first leaves, the second
    is killed; then every effect is counted."""
    env = dataclasses.replace(env, prefix=f"{env.prefix}{case.service}.")
    engine = create_async_engine(url)
    try:
        await _churn(env, case, url, engine)
    finally:
        await engine.dispose()


async def _churn(env: TestEnv, case: Case, url: str, engine: AsyncEngine) -> None:
    load = Load(env, case)
    with replicas() as running:
        first, second = start(env, case, url), start(env, case, url)
        running += [first, second]
        await eventually(first.assigned, timeout=60, what="the first replica's partitions")
        await eventually(second.assigned, timeout=60, what="the second replica's partitions")
        publishing = asyncio.create_task(load.run())
        try:
            async def applied() -> int:
                return (await _counts(engine, ["SELECT count(*) FROM processed_events"]))["SELECT count(*) FROM processed_events"]

            await eventually(applied, timeout=30, what="the two replicas applying the load")
            third = start(env, case, url)
            running.append(third)
            await eventually(third.assigned, timeout=60, what="the joining replica's partitions")
            before = load.sent
            first.proc.send_signal(signal.SIGTERM)
            # uvicorn shuts down (the consumer stops and leaves the group), then raises the signal
            # again so that the process ends by it.
            assert await first.ended(timeout=30) in (0, -signal.SIGTERM)
            second.proc.send_signal(signal.SIGKILL)
            await second.ended(timeout=10)
            # The survivor takes over the killed replica's partitions at its session timeout and
            # goes on with the load for a while.
            await eventually(lambda: _more_than(load, before + 100), timeout=30, what="load after the churn")
        finally:
            load.stopping.set()
            await publishing
        assert min(load.partitions.values()) >= 2, f"replicas need partitions to share: {load.partitions}"
        expected = case.effects(load.sent)
        queries = ["SELECT count(*) FROM processed_events", *expected]
        expected = {"SELECT count(*) FROM processed_events": load.sent, **expected}
        seen: list[dict[str, int]] = []

        async def settled() -> bool:
            seen.append(await _counts(engine, queries))
            return seen[-1]["SELECT count(*) FROM processed_events"] >= load.sent

        try:
            await eventually(settled, timeout=60, interval=0.2)
        except AssertionError:
            raise AssertionError(f"not all {load.sent} events applied within 60 s: {seen[-1]}") from None
        assert seen[-1] == expected, f"{load.sent} events published"
        assert third.proc.poll() is None, "the surviving replica died"


async def _more_than(load: Load, n: int) -> bool:
    return load.sent > n
