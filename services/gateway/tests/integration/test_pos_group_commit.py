"""Concurrent sales share transactions (shared.group_commit): each is answered once its own
row is durable, none is lost or applied twice, and one that fails takes no other down with it."""

import asyncio
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import col, func, select

from gateway.adapters.tables import PosSaleRow
from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role
from shared.events.envelope import Envelope
from shared.outbox import OutboxRecord
from shared.unit_of_work import UnitOfWork
from tests.support.backends import on_both_backends  # noqa: F401  (the module's `backend`: SQLite's one writer too)
from tests.support.factories import sale_body
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with service(create_app(env.settings(Settings, await database_factory("gateway")))) as client:
        for store in ("S001", "S002"):
            r = await client.put(f"/api/v1/stores/{store}", json={"name": store}, headers=env.auth(Role.ADMIN))
            assert r.status_code == 200, r.text
        yield client


# The sales' events among what the gateway queued (saving a store queues one too).
SALES_QUEUED = col(OutboxRecord.event_type).startswith("crm.pos.")


async def _writer_metrics(client) -> dict[str, float]:
    """The POS writer's series on the gateway's /metrics (0 before its first transaction)."""
    text = (await client.get("/metrics")).text
    wanted = {"crm_group_commit_items_count": 0.0, "crm_group_commit_items_sum": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in wanted and sample.labels == {"service": "gateway", "writer": "pos-group-commit"}:
                wanted[sample.name] = sample.value
    return wanted


async def _count(client, table, *where: Any) -> int:
    async with client.app.state.sessions() as session:
        return (await session.exec(select(func.count()).select_from(table).where(*where))).one()


async def test_concurrent_sales_share_transactions_and_each_is_recorded_once(gateway, env: TestEnv) -> None:
    sales = [sale_body("S001" if i % 2 else "S002", member={"card_no": f"88000000{i:05d}"}) for i in range(40)]
    headers = {s["store_id"]: env.auth(Role.POS, store_id=s["store_id"]) for s in sales}
    writer = gateway.app.state.pos_purchases
    before, measured = writer.groups_written, await _writer_metrics(gateway)
    answers = await asyncio.gather(*(gateway.post("/pos/v1/purchases", json=s, headers=headers[s["store_id"]]) for s in sales))
    assert [a.status_code for a in answers] == [202] * 40
    assert not any(a.json()["duplicate"] for a in answers)
    assert writer.groups_written - before < 40  # some sales shared a commit
    # /metrics tells operators the same: the transactions and the sales they took.
    after = await _writer_metrics(gateway)
    assert after["crm_group_commit_items_count"] - measured["crm_group_commit_items_count"] == writer.groups_written - before
    assert after["crm_group_commit_items_sum"] - measured["crm_group_commit_items_sum"] == 40
    assert await _count(gateway, PosSaleRow) == 40
    async with gateway.app.state.sessions() as session:
        rows = (await session.exec(select(OutboxRecord).where(SALES_QUEUED))).all()
    by_id = {row.event_id: row for row in rows}
    assert len(rows) == 40 and set(by_id) == {a.json()["event_id"] for a in answers}
    for sale, answer in zip(sales, answers, strict=True):
        envelope = Envelope.model_validate_json(by_id[answer.json()["event_id"]].envelope)
        assert envelope.data["pos_txn_id"] == sale["pos_txn_id"]
        assert envelope.data["customer"] == {"card_no": sale["member"]["card_no"], "phone_hmac": None}
        assert envelope.crmcredential == headers[sale["store_id"]]["Authorization"].removeprefix("Bearer ")

    # Retried all at once, in one group with a new sale: the retries are duplicates, nothing is written twice.
    new = sale_body("S001")
    again = await asyncio.gather(*(gateway.post("/pos/v1/purchases", json=s, headers=headers[s["store_id"]])
                                   for s in [*sales, new]))
    assert [a.json()["duplicate"] for a in again] == [True] * 40 + [False]
    assert [a.json()["event_id"] for a in again[:40]] == [a.json()["event_id"] for a in answers]
    assert await _count(gateway, PosSaleRow) == await _count(gateway, OutboxRecord, SALES_QUEUED) == 41


async def test_refusals_in_a_group_do_not_stop_the_other_sales(gateway, env: TestEnv) -> None:
    taken = sale_body("S001")
    assert (await gateway.post("/pos/v1/purchases", json=taken, headers=env.auth(Role.POS, store_id="S001"))).status_code == 202
    good = [sale_body("S001") for _ in range(5)]
    reused = {**taken, "payment": "cash"}  # the same id for other content
    unknown = sale_body("S404")
    bodies = [*good[:2], reused, good[2], unknown, *good[3:]]
    answers = await asyncio.gather(*(
        gateway.post("/pos/v1/purchases", json=b, headers=env.auth(Role.POS, store_id=b["store_id"])) for b in bodies
    ))
    assert [a.status_code for a in answers] == [202, 202, 409, 202, 422, 202, 202]
    assert answers[4].json()["detail"][0]["loc"] == ["body", "store_id"]
    assert await _count(gateway, PosSaleRow) == await _count(gateway, OutboxRecord, SALES_QUEUED) == 6


async def test_a_sale_that_fails_to_write_fails_alone_and_leaves_nothing_behind(
    gateway, env: TestEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    bodies = [sale_body("S001") for _ in range(8)]
    poisoned = bodies[3]["pos_txn_id"]
    real_emit = UnitOfWork.emit

    def emit(self, type_, data, **kwargs):
        if data.pos_txn_id == poisoned:  # e.g. an event the outbox cannot take
            raise RuntimeError("cannot write this event")
        return real_emit(self, type_, data, **kwargs)

    monkeypatch.setattr(UnitOfWork, "emit", emit)
    pos = env.auth(Role.POS, store_id="S001")
    answers = await asyncio.gather(
        *(gateway.post("/pos/v1/purchases", json=b, headers=pos) for b in bodies), return_exceptions=True
    )
    assert isinstance(answers[3], RuntimeError)  # the till sees a failure and retries later
    assert [a.status_code for i, a in enumerate(answers) if i != 3] == [202] * 7
    # The failed group was written again sale by sale: the seven are recorded, the eighth not at all
    # (no sale row without its event).
    async with gateway.app.state.sessions() as session:
        recorded = set((await session.exec(select(PosSaleRow.pos_txn_id))).all())
        published = set((await session.exec(select(OutboxRecord.event_id).where(SALES_QUEUED))).all())
    assert recorded == {b["pos_txn_id"] for b in bodies} - {poisoned}
    assert published == {a.json()["event_id"] for i, a in enumerate(answers) if i != 3}

    monkeypatch.undo()  # the till's retry goes through
    retry = await gateway.post("/pos/v1/purchases", json=bodies[3], headers=pos)
    assert retry.status_code == 202 and retry.json()["duplicate"] is False


async def test_retries_arriving_while_their_sale_is_written_are_recorded_once(gateway, env: TestEnv) -> None:
    # Tills that time out and retry: the copies land in later groups, whose writes find the rows
    # of the earlier ones and answer them as duplicates of the same events.
    sales = [sale_body("S001") for _ in range(10)]
    pos = env.auth(Role.POS, store_id="S001")

    async def post(body: dict) -> Any:
        return await gateway.post("/pos/v1/purchases", json=body, headers=pos)

    waves = []
    for _ in range(3):
        waves += [asyncio.create_task(post(s)) for s in sales]
        await asyncio.sleep(0)  # the next wave arrives while the earlier ones are written
    async with asyncio.timeout(30):
        answers = await asyncio.gather(*waves)
    assert [a.status_code for a in answers] == [202] * 30
    assert sum(a.json()["duplicate"] for a in answers) == 20
    assert len({a.json()["event_id"] for a in answers}) == 10
    assert await _count(gateway, PosSaleRow) == await _count(gateway, OutboxRecord, SALES_QUEUED) == 10
