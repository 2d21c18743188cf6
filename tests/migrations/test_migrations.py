"""Every service's migrations build exactly the tables its models describe, and go down and up."""

import asyncio
from importlib import import_module
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shared import consumer, outbox  # noqa: F401  (their tables belong to every service's schema)
from shared.db import make_engine
from shared.events.envelope import Envelope
from shared.events.registry import STORE_CHANGED
from shared.migrations import service_metadata, upgrade, upgrade_async
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

# The service, and a revision a few steps back to go down to and up again from.
SERVICES = [("members", "0006"), ("points", "0001"), ("feedback", "0001"), ("gateway", "base"), ("campaigns", "0011")]


async def _differences(url: str, tables: frozenset[str]) -> list:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), service_metadata(tables))
            )
    finally:
        await engine.dispose()


def _downgrade(migrations: Path, url: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations))
    cfg.attributes["database_url"] = url
    command.downgrade(cfg, revision)


@pytest.mark.parametrize(("service", "back_to"), SERVICES)
async def test_migrations_match_the_models_and_downgrade_cleanly(service, back_to, database_factory) -> None:
    tables = import_module(f"{service}.adapters.tables").TABLES
    migrations = Path(import_module(service).__file__).parent / "migrations"
    url = await database_factory(service, empty=True)
    assert {d[1].name for d in await _differences(url, tables) if d[0] == "add_table"} >= tables  # the check sees gaps
    await asyncio.to_thread(upgrade, migrations, url)
    assert await _differences(url, tables) == []
    await asyncio.to_thread(_downgrade, migrations, url, back_to)
    await asyncio.to_thread(upgrade, migrations, url)
    assert await _differences(url, tables) == []


async def test_a_service_start_migrates_only_a_database_behind_head(database_factory, tmp_path) -> None:
    """`upgrade_async` given the service's engine: a database at head is only looked at (the
    upgrade's own address is never used), one behind head is brought up to it."""
    tables = import_module("members.adapters.tables").TABLES
    migrations = Path(import_module("members").__file__).parent / "migrations"
    url = await database_factory("members", empty=True)
    nowhere = f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/members.db"
    engine = make_engine(url)
    try:
        await upgrade_async(migrations, url, engine=engine)
        assert await _differences(url, tables) == []
        await upgrade_async(migrations, nowhere, engine=engine)  # at head: nothing to do, `nowhere` unused
        await asyncio.to_thread(_downgrade, migrations, url, "0006")
        await upgrade_async(migrations, url, engine=engine)
        assert await _differences(url, tables) == []
    finally:
        await engine.dispose()


async def test_the_gateway_announces_once_the_stores_it_kept_before_stores_were_announced(database_factory) -> None:
    migrations = Path(import_module("gateway").__file__).parent / "migrations"
    url = await database_factory("gateway", empty=True)
    await asyncio.to_thread(upgrade, migrations, url, "0008")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO store (store_id, name, city, active, created_at) VALUES "
                "('S001', '城东大卖场', '杭州', true, '2026-01-01 00:00:00'), ('S002', '翠苑社区超市', '', false, '2026-01-01 00:00:00')"))
        await asyncio.to_thread(upgrade, migrations, url)
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT event_type, topic, key, envelope FROM outbox ORDER BY id"))).all()
    finally:
        await engine.dispose()
    assert [(t, topic, key) for t, topic, key, _ in rows] == [(STORE_CHANGED, "crm.gateway.events", "S001"),
                                                              (STORE_CHANGED, "crm.gateway.events", "S002")]
    data = [Envelope.model_validate_json(envelope).data for *_, envelope in rows]
    assert [(d["store_id"], d["name"], d["city"], d["active"]) for d in data] == [
        ("S001", "城东大卖场", "杭州", True), ("S002", "翠苑社区超市", "", False)]


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_the_index_of_processed_event_times_is_built_while_the_consumer_goes_on_writing(database_factory) -> None:
    # By then the table holds a row for every event the service ever consumed: a plain CREATE INDEX
    # would hold every consumer write for as long as it waits and builds.
    migrations = Path(import_module("points").__file__).parent / "migrations"
    url = await database_factory("points", empty=True)
    await asyncio.to_thread(upgrade, migrations, url, "0011")
    engine = create_async_engine(url)
    row = "INSERT INTO processed_events (event_id, event_type, processed_at) VALUES (:id, 't', now())"
    try:
        async with engine.connect() as applying:  # a consumer's batch, open while the migration starts
            await applying.execute(text(row), {"id": "e1"})
            migration = asyncio.create_task(asyncio.to_thread(upgrade, migrations, url))

            async def building() -> bool:
                async with engine.connect() as conn:
                    return bool((await conn.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'CREATE INDEX%processed_at%'"
                        " AND wait_event_type = 'Lock'"))).scalar_one())

            await eventually(building, timeout=30, what="the index build waits for the open batch")
            async with engine.begin() as next_batch:  # the next batch is not held behind the build
                await next_batch.execute(text("SET LOCAL lock_timeout = '3s'"))
                await next_batch.execute(text(row), {"id": "e2"})
            await applying.commit()
            await migration
        async with engine.connect() as conn:
            indexes = (await conn.execute(text(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'processed_events'"))).scalars().all()
    finally:
        await engine.dispose()
    assert "ix_processed_events_processed_at" in indexes


async def test_a_home_store_that_is_no_store_id_is_cleared_and_store_ids_are_kept(database_factory) -> None:
    migrations = Path(import_module("members").__file__).parent / "migrations"
    url = await database_factory("members", empty=True)
    await asyncio.to_thread(upgrade, migrations, url, "0019")
    homes = {"m-1": "S001", "m-2": "store_2-b", "m-3": "不存在的门店", "m-4": " ", "m-5": "", "m-6": "S 001", "m-7": None}
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for n, (member_id, home) in enumerate(homes.items()):
                await conn.execute(text(
                    "INSERT INTO member (id, card_no, name, gender, community, address, channel, home_store_id, lifetime_spend,"
                    " purchase_count, tier, tier_imported, created_at) VALUES (:id, :card, '王', 'unspecified', 'c', 'a', 'retail',"
                    " :home, 0, 0, 'member', false, '2026-01-01 00:00:00+00:00')"), {"id": member_id, "card": f"880000{n}", "home": home})
        await asyncio.to_thread(upgrade, migrations, url)
        async with engine.connect() as conn:
            after = dict((await conn.execute(text("SELECT id, home_store_id FROM member"))).all())
    finally:
        await engine.dispose()
    assert after == {"m-1": "S001", "m-2": "store_2-b", "m-3": None, "m-4": None, "m-5": None, "m-6": None, "m-7": None}


async def test_card_numbers_are_put_in_capitals_but_for_one_another_member_holds_in_them(database_factory) -> None:
    migrations = Path(import_module("members").__file__).parent / "migrations"
    url = await database_factory("members", empty=True)
    await asyncio.to_thread(upgrade, migrations, url, "0020")
    cards = {"m-1": "8800000001", "m-2": "qa12b34", "m-3": "Qa99z", "m-4": "QA99Z"}
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for member_id, card in cards.items():
                await conn.execute(text(
                    "INSERT INTO member (id, card_no, name, gender, community, address, channel, lifetime_spend,"
                    " purchase_count, tier, tier_imported, created_at) VALUES (:id, :card, '王', 'unspecified', 'c', 'a', 'retail',"
                    " 0, 0, 'member', false, '2026-01-01 00:00:00+00:00')"), {"id": member_id, "card": card})
        await asyncio.to_thread(upgrade, migrations, url)
        async with engine.connect() as conn:
            after = dict((await conn.execute(text("SELECT id, card_no FROM member"))).all())
    finally:
        await engine.dispose()
    # m-3's capitals are m-4's card: both are kept as they were, for someone to look at.
    assert after == {"m-1": "8800000001", "m-2": "QA12B34", "m-3": "Qa99z", "m-4": "QA99Z"}


async def test_a_complaints_resolution_note_goes_to_its_latest_resolve_step(database_factory) -> None:
    """The rounds resolved before the history kept each one's note: the complaint's note is the
    latest round's, and only its resolve step gets it (an erased member's complaint has none)."""
    migrations = Path(import_module("feedback").__file__).parent / "migrations"
    url = await database_factory("feedback", empty=True)
    await asyncio.to_thread(upgrade, migrations, url, "0009")
    notes = {"c-1": "已重发", "c-2": None, "c-3": None}
    steps = [("c-1", "filed"), ("c-1", "resolve"), ("c-1", "reopen"), ("c-1", "resolve"), ("c-1", "rated"),
             ("c-2", "resolve"), ("c-3", "filed")]
    at = "'2026-11-23 02:00:00+00:00'"  # a literal: asyncpg takes no text for a timestamp parameter
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for complaint_id, note in notes.items():
                await conn.execute(text(
                    "INSERT INTO complaint (id, store_id, channel, category, severity, status, assignee, auto_assigned, filed_by,"
                    " filed_at, ack_due_at, resolve_due_at, reopen_count, resolution_note, compensation_points, updated_at)"
                    " VALUES (:id, 'S001', 'service_desk', 'price', 'low', 'resolved', 'desk:S001', true, 'desk-li',"
                    f" {at}, {at}, {at}, 0, :note, 0, {at})"), {"id": complaint_id, "note": note})
            for n, (complaint_id, action) in enumerate(steps, start=1):
                await conn.execute(text(
                    "INSERT INTO complaint_history (id, complaint_id, action, actor, detail, at)"
                    f" VALUES (:id, :complaint_id, :action, 'desk-li', :detail, {at})"),
                    {"id": n, "complaint_id": complaint_id, "action": action, "detail": f"{action} {n}"})
        await asyncio.to_thread(upgrade, migrations, url)
        async with engine.connect() as conn:
            after = (await conn.execute(text("SELECT id, detail, note FROM complaint_history ORDER BY id"))).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in after] == [
        (1, "filed 1", None), (2, "resolve 2", None), (3, "reopen 3", None), (4, "resolve 4", "已重发"), (5, "rated 5", None),
        (6, "resolve 6", None), (7, "filed 7", None)]
