"""The migrations build exactly the tables the models describe, and go down and up again."""

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

import members
from members.adapters.tables import TABLES
from shared import consumer, outbox  # noqa: F401  (their tables belong to every service's schema)
from shared.migrations import service_metadata, upgrade

pytestmark = pytest.mark.integration

MIGRATIONS = Path(members.__file__).parent / "migrations"


async def _differences(url: str) -> list:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), service_metadata(TABLES))
            )
    finally:
        await engine.dispose()


def _downgrade(url: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = url
    command.downgrade(cfg, revision)


async def test_migrations_match_the_models_and_downgrade_cleanly(database_factory) -> None:
    url = await database_factory("members", empty=True)
    assert {d[1].name for d in await _differences(url) if d[0] == "add_table"} >= TABLES  # the check sees gaps
    await asyncio.to_thread(upgrade, MIGRATIONS, url)
    assert await _differences(url) == []
    await asyncio.to_thread(_downgrade, url, "0006")
    await asyncio.to_thread(upgrade, MIGRATIONS, url)
    assert await _differences(url) == []
