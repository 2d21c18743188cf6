"""What `/health/ready` says while a service's database or broker is away: the operator's console
shows these words as they come, so each names what failed in the driver's own words, without the
statement SQLAlchemy adds, and a consumer that is reconnecting does not read as a standby replica."""

import asyncio
import sqlite3
import time
from pathlib import Path

import httpx
from aiokafka.errors import KafkaConnectionError
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError

from shared.consumer import Delivery, EventConsumer
from shared.db import SQLITE_POOL_OVERFLOW, SQLITE_POOL_SIZE, make_engine, make_sessionmaker
from shared.events.registry import PURCHASE_ATTRIBUTED
from shared.outbox import OutboxRelay
from shared.retry import failure_reason
from shared.service import ServiceSpec, build_service_app
from shared.settings import ServiceSettings
from shared.unit_of_work import UnitOfWork
from tests.support.polling import eventually


async def book(uow: UnitOfWork, delivery: Delivery) -> None:
    raise AssertionError("nothing is delivered here")


async def failed_once(loop: EventConsumer | OutboxRelay) -> None:
    """Runs the relay's or the consumer's loop until its first failure, then stops it."""
    task = asyncio.create_task(loop.run())

    async def failed() -> bool:
        return loop.failure is not None

    try:
        await eventually(failed, timeout=30, what="a failure")
    finally:
        loop.stopping = True
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_readiness_names_the_database_away_and_a_consumer_reconnecting(tmp_path: Path) -> None:
    # The database's directory is gone: every connection fails as "unable to open database file".
    settings = ServiceSettings(
        environment="test", service_name="points", database_url=f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'points.db'}",
        kafka_bootstrap="127.0.0.1:9",  # nothing listens there
    )
    app: FastAPI = build_service_app(settings, ServiceSpec("t", "t", [], migrations=Path("."), handlers={PURCHASE_ATTRIBUTED: book}))
    engine = make_engine(settings.database)
    sessions = make_sessionmaker(engine)
    relay, consumer = OutboxRelay(settings, sessions), EventConsumer(settings, sessions, {PURCHASE_ATTRIBUTED: book})
    try:
        await failed_once(relay)
        await failed_once(consumer)
        app.state.engine, app.state.relay, app.state.consumer = engine, relay, consumer
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            r = await client.get("/health/ready")
    finally:
        await consumer.stop()
        await relay.stop()
        await engine.dispose()
    assert r.status_code == 503
    body = r.json()
    assert body["checks"] == {
        "database": "failed: OperationalError: unable to open database file",
        # The relay closes its producer after any failure, its database's too: the broker line
        # says so, rather than blaming a broker that may be fine.
        "broker": "failed: not connected to the broker (the outbox relay's last failure: OperationalError: unable to open database file)",
    }
    assert body["consumer"].startswith("reconnecting after a failure: KafkaConnectionError: ")
    assert "Unable to bootstrap" in body["consumer"]


def test_a_failure_is_one_line_in_the_drivers_words_its_class_named_once() -> None:
    statement = OperationalError("SELECT * FROM accounts WHERE phone = ?", ("13912345678",), sqlite3.OperationalError("disk I/O error"))
    assert failure_reason(statement) == "OperationalError: disk I/O error"
    assert failure_reason(TimeoutError()) == "TimeoutError: no answer in time"
    assert failure_reason(KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 9)]")) == (
        "KafkaConnectionError: Unable to bootstrap from [('127.0.0.1', 9)]")
    assert failure_reason(OSError("connection refused\nsecond line")) == "OSError: connection refused"


async def test_readiness_answers_within_the_consoles_deadline_while_every_connection_is_taken(tmp_path: Path) -> None:
    # Every pooled connection held, as while each waits for SQLite's write lock: the probe and the
    # outbox figures each waited for a connection until the pool's own 30 s timeout, and the
    # console, which gives a service 3 s, showed it as not answering at all.
    settings = ServiceSettings(environment="test", service_name="points", database_url=f"sqlite+aiosqlite:///{tmp_path / 'points.db'}")
    app: FastAPI = build_service_app(settings, ServiceSpec("t", "t", [], migrations=Path(".")))
    engine = make_engine(settings.database)
    held = [await engine.connect() for _ in range(SQLITE_POOL_SIZE + SQLITE_POOL_OVERFLOW)]
    app.state.engine, app.state.relay, app.state.consumer = engine, OutboxRelay(settings, make_sessionmaker(engine)), None
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            started = time.monotonic()
            r = await client.get("/health/ready")
            took = time.monotonic() - started
    finally:
        for connection in held:
            await connection.close()
        await engine.dispose()
    assert (r.status_code, r.json()["checks"]["database"]) == (503, "failed: no answer within 2s")
    assert took < 3.0, f"answered in {took:.1f}s, after the console's deadline"
