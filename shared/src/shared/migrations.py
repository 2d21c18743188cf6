"""Alembic wiring shared by every service's `migrations/env.py`.

Each service keeps its own migration history in its own database; the messaging tables (outbox,
processed_events) are created by each service's first revision through `create_messaging_tables`,
the record of job runs (job_run) by a later revision of each through `create_job_runs_table`.
"""

import asyncio
from functools import cache
from pathlib import Path
from typing import Any, cast

from alembic import context, op
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, BigInteger, Boolean, Column, Float, Integer, MetaData, String, Text, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import SQLModel

from shared import job_runs
from shared.columns import UtcDateTime
from shared.db import READ_ONLY
from shared.store_directory import TABLE as STORE_DIRECTORY

MESSAGING_TABLES = frozenset({"outbox", "processed_events", "relay_heartbeat"})
# Tables of the shared runtime every service has besides its own (`service_metadata`, `run_env`).
SHARED_TABLES = MESSAGING_TABLES | {job_runs.TABLE}


def upgrade(script_location: Path, database_url: str, revision: str = "head") -> None:
    """`alembic upgrade`, with the service's revision scripts read once per process (a process
    that starts services many times: the test suite)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["database_url"] = database_url
    script = _scripts(str(script_location))
    with EnvironmentContext(cfg, script, fn=lambda rev, _context: script._upgrade_revs(revision, rev),
                            destination_rev=revision):
        script.run_env()


@cache
def _scripts(script_location: str) -> ScriptDirectory:
    return ScriptDirectory(script_location)


async def upgrade_async(script_location: Path, database_url: str, engine: AsyncEngine | None = None) -> None:
    """`upgrade` from a running event loop. Given the service's `engine` (at its start), first a
    look through its pool whether the database is at head already, as it is at nearly every start:
    the upgrade takes a thread, an event loop, an engine and a connection of its own."""
    if engine is not None and await _at_head(engine, script_location):
        return
    # env.py runs its own event loop, so it goes to a worker thread when called from a running one.
    await asyncio.to_thread(upgrade, script_location, database_url)


async def _at_head(engine: AsyncEngine, script_location: Path) -> bool:
    def current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    # Read only: on SQLite it neither waits for nor takes the write turn (`shared.db`).
    async with engine.execution_options(**READ_ONLY).connect() as connection:
        found = await connection.run_sync(current)
    return found == set(_scripts(str(script_location)).get_heads())


def run_env(tables: frozenset[str]) -> None:
    """Body of a service's env.py: migrate only the tables the service owns."""
    owned = tables | SHARED_TABLES
    url = cast(str, context.config.attributes.get("database_url") or context.config.get_main_option("sqlalchemy.url"))

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return type_ != "table" or name in owned

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=SQLModel.metadata,
            include_object=include,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(run)
            await connection.commit()
        await engine.dispose()

    asyncio.run(main())


def create_messaging_tables() -> None:
    op.create_table(
        "outbox",
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(200), nullable=False, unique=True),
        Column("event_type", String(200), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("envelope", Text, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("published_at", UtcDateTime(), nullable=True),
        Column("kafka_partition", Integer, nullable=True),
        Column("kafka_offset", BigInteger, nullable=True),
    )
    op.create_index("ix_outbox_pending", "outbox", ["published_at", "id"])
    op.create_table(
        "processed_events",
        Column("event_id", String(200), primary_key=True),
        Column("event_type", String(200), nullable=False),
        Column("processed_at", UtcDateTime(), nullable=False),
    )


def drop_messaging_tables() -> None:
    op.drop_table("processed_events")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_table("outbox")


def index_processed_events_time() -> None:
    """`processed_at` indexed, for `shared.consumer.forget_processed_events`. On PostgreSQL built
    CONCURRENTLY, outside the migration's transaction: by the time this runs the table holds a row
    for every event the service ever consumed, and a plain CREATE INDEX would stop its consumer's
    writes for as long as the build takes."""
    if op.get_context().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.create_index("ix_processed_events_processed_at", "processed_events", ["processed_at"],
                            postgresql_concurrently=True)
        return
    op.create_index("ix_processed_events_processed_at", "processed_events", ["processed_at"])


def drop_processed_events_time_index() -> None:
    op.drop_index("ix_processed_events_processed_at", table_name="processed_events")


def create_relay_heartbeat_table() -> None:
    """`shared.outbox.RelayHeartbeat`: added after the messaging tables, by a migration of its own."""
    op.create_table(
        "relay_heartbeat",
        Column("topic", String(200), primary_key=True),
        Column("kafka_offset", BigInteger, nullable=False),
        Column("recorded_at", UtcDateTime(), nullable=False),
    )


def drop_relay_heartbeat_table() -> None:
    op.drop_table("relay_heartbeat")


def add_home_store_time(table: str = "member_directory") -> None:
    """`home_store_at` beside a table's `home_store_id` (`shared.member_directory.move_home_stores`):
    NULL for what was known before, which the next event about the member then sets."""
    with op.batch_alter_table(table) as batch:
        batch.add_column(Column("home_store_at", UtcDateTime(), nullable=True))


def card_numbers_in_capitals(table: str, *, unique: bool = False) -> None:
    """A card number stored as a client typed it (`qa12b`) in the capitals every card number is read
    in now (`shared.cards.CardNumber`), so that the card is found whichever case a cashier types.
    Where a card is a key (`unique`), one whose capitals another row holds already is left as it
    was: two cards told apart only by case are two customers' until someone looks at them."""
    clash = f" AND NOT EXISTS (SELECT 1 FROM {table} AS other WHERE other.card_no = UPPER({table}.card_no))" if unique else ""
    op.execute(text(f"UPDATE {table} SET card_no = UPPER(card_no) WHERE card_no <> UPPER(card_no){clash}"))


def drop_home_store_time(table: str = "member_directory") -> None:
    with op.batch_alter_table(table) as batch:
        batch.drop_column("home_store_at")


def scope_key_to_member(table: str, constraint: str) -> None:
    """Makes a table's chain-wide unique `idempotency_key` unique per member, named `constraint`: an
    app or a desk chooses its own keys, and another member's request under the same key is its own.
    The first revisions left the key's constraint unnamed: PostgreSQL named it itself
    (`<table>_idempotency_key_key`), and SQLite's copy of the table is given that name by the
    naming convention, so that the batch can drop it."""
    old = f"{table}_idempotency_key_key"
    with op.batch_alter_table(table, naming_convention={"uq": "%(table_name)s_%(column_0_name)s_key"}) as batch_op:
        batch_op.drop_constraint(old, type_="unique")
        batch_op.create_unique_constraint(constraint, ["member_id", "idempotency_key"])


def unscope_key_from_member(table: str, constraint: str) -> None:
    """The way back; fails if two members have used one key since: whose it is cannot be told."""
    with op.batch_alter_table(table) as batch_op:
        batch_op.drop_constraint(constraint, type_="unique")
        batch_op.create_unique_constraint(f"{table}_idempotency_key_key", ["idempotency_key"])


def create_job_runs_table() -> None:
    op.create_table(
        job_runs.TABLE,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("job", String(100), nullable=False),
        Column("trigger", String(16), nullable=False),
        Column("as_of", UtcDateTime(), nullable=False),
        Column("started_at", UtcDateTime(), nullable=False),
        Column("finished_at", UtcDateTime(), nullable=False),
        Column("duration_s", Float, nullable=False),
        Column("ok", Boolean, nullable=False),
        Column("summary", JSON, nullable=False),
        Column("error", Text, nullable=True),
        Column("replica", String(200), nullable=False),
    )
    op.create_index("ix_job_run_job_id", job_runs.TABLE, ["job", "id"])


def drop_job_runs_table() -> None:
    op.drop_index("ix_job_run_job_id", table_name=job_runs.TABLE)
    op.drop_table(job_runs.TABLE)


def create_store_directory_table() -> None:
    """The chain's stores as a service keeps them from the gateway's `store_changed`
    (`shared.store_directory`)."""
    op.create_table(
        STORE_DIRECTORY,
        Column("store_id", String(32), primary_key=True),
        Column("name", String(100), nullable=False),
        Column("city", String(50), nullable=False),
        Column("active", Boolean, nullable=False),
        Column("changed_at", UtcDateTime(), nullable=False),
    )


def drop_store_directory_table() -> None:
    op.drop_table(STORE_DIRECTORY)


def service_metadata(tables: frozenset[str]) -> MetaData:
    """The subset of the shared SQLModel metadata that one service owns (for schema checks)."""
    metadata = MetaData()
    for name in tables | SHARED_TABLES:
        SQLModel.metadata.tables[name].to_metadata(metadata)
    return metadata
