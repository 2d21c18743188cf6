"""Events you can trust, through the real broker: a type is applied only from its owner's topic,
a mistyped POS event and a sale without a valid till credential are dead-lettered, not lost."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import jwt
import pytest
from aiokafka import AIOKafkaProducer

from shared.auth import Role
from shared.consumer import EventConsumer
from shared.events import contracts as c
from shared.events.binding import to_kafka
from shared.events.envelope import new_event
from shared.events.registry import COMPLAINT_RESOLVED, PURCHASE_MADE, Topics
from tests.messaging.test_outbox_and_consumer import background, database
from tests.support.kafka_reader import read_topic
from tests.support.platform import TestEnv
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


def _sale(txn: str, store: str = "S001") -> c.PurchaseMadeV1:
    return c.PurchaseMadeV1(
        store_id=store, pos_txn_id=txn, occurred_at=datetime(2026, 11, 23, 2, 15, tzinfo=UTC), customer=None,
        lines=[c.SaleLine(sku="1", qty=Decimal(1), unit_price=Decimal("9.90"), amount=Decimal("9.90"))],
        total=Decimal("9.90"), payment="cash",
    )


def _old_token(env: TestEnv, issued: datetime) -> str:
    """A till token minted at `issued`, valid 12 hours."""
    fresh = jwt.decode(env.issuer.mint("till-1", Role.POS, store_id="S001"), options={"verify_signature": False})
    fresh.update(iat=int(issued.timestamp()), exp=int((issued + timedelta(hours=12)).timestamp()))
    return jwt.encode(fresh, env.issuer._key, algorithm="EdDSA")


async def test_forged_and_unauthenticated_events_are_dead_lettered_and_never_applied(env: TestEnv, database_factory) -> None:
    till = env.issuer.mint("till-1", Role.POS, store_id="S001")
    other_store = env.issuer.mint("till-9", Role.POS, store_id="S002")
    resolved = c.ComplaintResolvedV1.model_validate({
        "complaint_id": "C1", "member_id": "m1", "store_id": "S001", "category": "price", "severity": "high",
        "resolved_at": datetime.now(UTC).isoformat(), "compensation_points": 5000,
    })
    hours_ago = datetime.now(UTC) - timedelta(hours=14)
    backlog = new_event(PURCHASE_MADE, _sale("BACKLOG"), source="pos/a", credential=_old_token(env, hours_ago))
    records = [
        (new_event(COMPLAINT_RESOLVED, resolved, source="pos/a"), None),  # a till forging compensation
        (new_event(PURCHASE_MADE, _sale("TYPO"), source="pos/a", credential=till).model_copy(
            update={"type": "crm.pos.purchase_mad.v1"}), None),
        (new_event(PURCHASE_MADE, _sale("BARE"), source="pos/a"), None),
        (new_event(PURCHASE_MADE, _sale("STRANGER"), source="pos/a", credential=other_store), None),
        # Published 13 hours ago while the token was valid, read now after it expired: accepted.
        (backlog, int((hours_ago + timedelta(hours=1)).timestamp() * 1000)),
        (new_event(PURCHASE_MADE, _sale("GOOD"), source="pos/a", credential=till), None),
    ]
    async with database(env, database_factory) as (settings, sessions):
        applied: list[str] = []

        async def record(uow, delivery) -> None:
            applied.append(getattr(delivery.payload, "pos_txn_id", delivery.envelope.type))

        producer = AIOKafkaProducer(bootstrap_servers=env.broker.bootstrap, acks="all")
        await producer.start()
        try:
            for envelope, timestamp_ms in records:
                value, headers = to_kafka(envelope)
                await producer.send_and_wait(settings.topic(Topics.POS_PURCHASES), value, key=b"store:S001",
                                             headers=headers, timestamp_ms=timestamp_ms)
        finally:
            await producer.stop()

        consumer = EventConsumer(settings, sessions, {PURCHASE_MADE: record, COMPLAINT_RESOLVED: record})
        async with background(consumer):
            dead = await read_topic(env.broker.bootstrap, settings.topic(Topics.DEAD_LETTER), 4, timeout=40)

            async def both_applied() -> bool:
                return len(applied) >= 2

            await eventually(both_applied, what="the authenticated sales applied")
        await consumer.stop()

    assert sorted(applied) == ["BACKLOG", "GOOD"]
    errors = sorted(dict(r.headers)["dlq_error"].decode() for r in dead)
    assert [e.split(":")[0] for e in errors] == ["ForeignEvent", "InvalidCredential", "InvalidCredential", "UnknownEventType"]
    assert any("no till credential" in e for e in errors)
    assert any("store S002 cannot publish for store S001" in e for e in errors)
    assert all(str(uuid.UUID(dict(r.headers)["ce_id"].decode())) for r in dead)
