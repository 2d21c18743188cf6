"""Nothing acknowledged is lost or applied twice: direct publishing by a POS vendor's own Kafka
client, a broker that restarts with an empty log, a consumer killed in the middle of its work."""

import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from crm_cli.broker import free_port, start_broker
from shared.auth import Role
from tests.support.factories import line, member_body, refund_body, sale_body
from tests.support.infra import Broker
from tests.support.kafka_reader import read_topic
from tests.support.platform import PEPPER, TestEnv, platform
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]


async def _balance(p, member_id: str) -> int:
    r = await p.gateway.get(f"/api/v1/customers/{member_id}/360", headers=p.env.auth(Role.SERVICE_DESK))
    points = r.json()["points"]
    return points["balance"] if points else -1


async def _wait_balance(p, member_id: str, expected: int, timeout: float = 60) -> None:
    seen: list[int] = []

    async def probe() -> bool:
        seen.append(await _balance(p, member_id))
        return seen[-1] == expected

    try:
        await eventually(probe, timeout=timeout, what=f"balance of {expected}")
    except AssertionError:
        ready = {name: (await c.get("/health/ready")).json() for name, c in (("gateway", p.gateway), ("members", p.members), ("points", p.points))}
        raise AssertionError(f"balance {seen[-1]} != {expected}; services: {ready}") from None


async def _setup(p) -> dict:
    r = await p.gateway.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=p.env.auth(Role.ADMIN))
    assert r.status_code == 200
    r = await p.gateway.post("/api/v1/members", json=member_body(), headers=p.env.auth(Role.SERVICE_DESK))
    assert r.status_code == 201
    return r.json()


async def test_a_pos_vendor_can_publish_sales_with_its_own_kafka_client(env: TestEnv, database_factory) -> None:
    """Written from docs/events.md alone: plain JSON, no code of ours on the producing side."""
    async with platform(env, database_factory) as p:
        member = await _setup(p)
        data = {
            "store_id": "S001", "pos_txn_id": "S001-T07-000001", "occurred_at": "2026-11-23T10:15:00+08:00",
            "customer": {"card_no": member["card_no"]},
            "lines": [{"sku": "6901234567890", "name": "金龙鱼大米 5kg", "category": "grain", "qty": 2,
                       "unit_price": "39.90", "amount": "79.80"}],
            "total": "79.80", "payment": "wechat",
        }
        # The till's bearer token, as `crm token --role pos --store S001` prints it.
        till = env.issuer.mint("vendor-a-S001-T07", Role.POS, store_id="S001")
        structured = {
            "specversion": "1.0", "id": str(uuid.uuid4()), "source": "pos/vendor-a/S001",
            "type": "crm.pos.purchase_made.v1", "time": "2026-11-23T10:15:01+08:00", "crmcredential": till,
            "data": data,
        }
        binary_data = {**data, "pos_txn_id": "S001-T07-000002", "total": "20.00",
                       "lines": [{**data["lines"][0], "qty": 1, "unit_price": "20.00", "amount": "20.00"}]}
        producer = AIOKafkaProducer(bootstrap_servers=env.broker.bootstrap, acks="all")
        await producer.start()
        try:
            topic = env.prefix + "crm.pos.purchases"
            key = f"card:{member['card_no']}".encode()
            await producer.send_and_wait(
                topic, json.dumps(structured).encode(), key=key,
                headers=[("content-type", b"application/cloudevents+json")],
            )
            await producer.send_and_wait(
                topic, json.dumps(binary_data).encode(), key=key,
                headers=[("content-type", b"application/json"), ("ce_specversion", b"1.0"),
                         ("ce_id", str(uuid.uuid4()).encode()), ("ce_source", b"pos/vendor-b/S001"),
                         ("ce_type", b"crm.pos.purchase_made.v1"), ("ce_time", b"2026-11-23T02:20:00Z"),
                         ("ce_crmcredential", till.encode())],
            )
            # Without a credential, or with another store's till, a sale is dead-lettered, not credited.
            for txn, credential in (("S001-T07-000003", None), ("S001-T07-000004", p.env.issuer.mint(
                    "vendor-a-S002-T01", Role.POS, store_id="S002"))):
                forged = {**structured, "id": str(uuid.uuid4()), "data": {**data, "pos_txn_id": txn}}
                if credential is None:
                    del forged["crmcredential"]
                else:
                    forged["crmcredential"] = credential
                await producer.send_and_wait(
                    topic, json.dumps(forged).encode(), key=key, headers=[("content-type", b"application/cloudevents+json")],
                )
        finally:
            await producer.stop()
        await _wait_balance(p, member["id"], 79 + 20)

        # The same transaction arriving again through the gateway is recognised, not credited twice.
        again = sale_body(member={"card_no": member["card_no"]}, pos_txn_id="S001-T07-000001",
                          lines=[line(qty="2", unit_price="39.90")], occurred_at="2026-11-23T10:15:00+08:00")
        r = await p.gateway.post("/pos/v1/purchases", json=again, headers=env.auth(Role.POS, store_id="S001"))
        assert r.status_code == 202 and r.json() == {"event_id": structured["id"], "duplicate": True}, r.text
        # And the second sale comes back at a desk through the API: the gateway read it from the topic too.
        back = refund_body({"store_id": "S001", "pos_txn_id": "S001-T07-000002", "lines": [line(qty="1", unit_price="20.00")]})
        r = await p.gateway.post("/pos/v1/refunds", json=back, headers=env.auth(Role.POS, store_id="S001"))
        assert r.status_code == 202, r.text
        extra = sale_body(member={"card_no": member["card_no"]}, lines=[line(qty="1", unit_price="1.00")])
        await p.gateway.post("/pos/v1/purchases", json=extra, headers=env.auth(Role.POS, store_id="S001"))
        # The marker sale came through after the repeat and the two refused sales on the same key.
        await _wait_balance(p, member["id"], 79 + 20 - 20 + 1)
        # Every service reading the tills' topic refuses the two forged sales on its own: members
        # (which would have credited them), campaigns (which would have redeemed their coupons) and
        # the gateway (which would have kept their transaction ids).
        dead = await read_topic(env.broker.bootstrap, env.prefix + "crm.dead-letter", 6, then_wait=1.0)
        refused: dict[str, list[bytes]] = {}
        for r in dead:
            headers = dict(r.headers)
            group = headers["dlq_consumer_group"].decode().removeprefix(env.prefix)
            refused.setdefault(group, []).append(headers["dlq_error"].split(b":")[0])
        assert refused == {group: [b"InvalidCredential"] * 2 for group in ("members", "campaigns", "gateway")}


async def test_sales_survive_a_broker_restart_that_empties_the_log(env: TestEnv, database_factory) -> None:
    port = free_port()
    broker = Broker(port, start_broker(port))
    private = dataclasses.replace(env, broker=broker, overrides={"outbox_heartbeat_interval_s": 0.5})
    try:
        async with platform(private, database_factory) as p:
            member = await _setup(p)
            pos = env.auth(Role.POS, store_id="S001")
            expected = 0
            for i in range(15):
                sale = sale_body(member={"card_no": member["card_no"]}, lines=[line(qty="1", unit_price=f"{10 + i}.00")])
                assert (await p.gateway.post("/pos/v1/purchases", json=sale, headers=pos)).status_code == 202
                expected += 10 + i
            broker.kill()
            for i in range(15):  # accepted while the broker is away: only the gateway's database has them
                sale = sale_body(member={"card_no": member["card_no"]}, lines=[line(qty="1", unit_price=f"{50 + i}.00")])
                assert (await p.gateway.post("/pos/v1/purchases", json=sale, headers=pos)).status_code == 202
                expected += 50 + i
            broker.restart()
            await _wait_balance(p, member["id"], expected, timeout=90)
            view = (await p.gateway.get(f"/api/v1/customers/{member['id']}/360", headers=env.auth(Role.SERVICE_DESK))).json()
            assert view["purchase_count"] == 30
    finally:
        broker.kill()


async def _count(url: str, sql: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(sql))).scalar_one())
    finally:
        await engine.dispose()


def _start_points(env: TestEnv, url: str, port: int) -> subprocess.Popen:
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CRM_")},
        "CRM_SERVICE_NAME": "points", "CRM_ENVIRONMENT": "test", "CRM_DATABASE_URL": url,
        "CRM_KAFKA_BOOTSTRAP": env.broker.bootstrap, "CRM_KAFKA_TOPIC_PREFIX": env.prefix,
        "CRM_KAFKA_SESSION_TIMEOUT_MS": "6000", "CRM_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        "CRM_CONSUMER_BATCH_SIZE": "100", "CRM_JWT_PUBLIC_KEY": env.public_key, "CRM_IDENTITY_PEPPER": PEPPER,
        "CRM_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "points.main:create_app", "--factory", "--port", str(port), "--log-level", "warning"],
        env=environ,
    )


async def test_a_consumer_killed_mid_stream_applies_every_event_exactly_once(env: TestEnv, database_factory) -> None:
    from shared.events import contracts as c
    from shared.events.binding import to_kafka
    from shared.events.envelope import new_event
    from shared.events.registry import PURCHASE_ATTRIBUTED

    url = await database_factory("points")
    total_events, members = 2000, 20
    producer = AIOKafkaProducer(bootstrap_servers=env.broker.bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        for i in range(total_events):
            member = f"m{i % members}"
            data = c.PurchaseAttributedV1(
                member_id=member, sale_event_id=f"s{i}", store_id="S001", pos_txn_id=f"T{i}",
                occurred_at=datetime(2026, 11, 23, tzinfo=UTC), total=f"{i % 7 + 1}.00",
                lines=[c.AttributedLine(sku="1", qty=1, amount=f"{i % 7 + 1}.00")],
            )
            value, headers = to_kafka(new_event(PURCHASE_ATTRIBUTED, data, source="test", subject=member))
            await producer.send(env.prefix + "crm.members.events", value, key=member.encode(), headers=headers)
        await producer.flush()
        # Every tenth event delivered a second time, as after a producer retry.
    finally:
        await producer.stop()

    expected_points = sum(i % 7 + 1 for i in range(total_events))
    ledger = "SELECT count(*) FROM points_ledger"
    proc = _start_points(env, url, free_port())
    try:
        async def some_applied() -> bool:
            try:
                return 0 < await _count(url, ledger) < total_events
            except Exception:
                return False

        await eventually(some_applied, timeout=60, interval=0.02, what="consumer part-way through")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        applied_at_kill = await _count(url, ledger)
        assert applied_at_kill < total_events
        proc = _start_points(env, url, free_port())

        async def all_applied() -> bool:
            return await _count(url, ledger) == total_events

        await eventually(all_applied, timeout=90, what="every event applied after restart")
        await asyncio.sleep(0)
        assert await _count(url, "SELECT count(*) FROM processed_events") == total_events
        assert await _count(url, "SELECT sum(balance) FROM points_account") == expected_points
        assert await _count(url, "SELECT count(DISTINCT source_ref) FROM points_ledger") == total_events
    finally:
        proc.terminate()
        proc.wait(timeout=20)
