"""Every service's migrations build exactly the tables its models describe, and go down and up."""

import asyncio
from importlib import import_module
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from shared import consumer, outbox  # noqa: F401  (their tables belong to every service's schema)
from shared.migrations import service_metadata, upgrade

pytestmark = pytest.mark.integration

# The service, and a revision a few steps back to go down to and up again from.
SERVICES = [("members", "0006"), ("points", "0001"), ("feedback", "0001"), ("gateway", "base")]


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
