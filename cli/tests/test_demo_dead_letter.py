"""The demo plants one dead letter for the console's operators, once per broker log: a registration
members announced, so that replaying it opens no account for a customer who does not exist."""

import asyncio
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer

from crm_cli.demo_dead_letter import plant_demo_dead_letter
from shared.events.binding import to_kafka
from shared.events.contracts.members import MemberRegisteredV1
from shared.events.envelope import new_event
from shared.events.registry import MEMBER_REGISTERED, Topics
from tests.support.kafka_reader import read_topic

pytestmark = pytest.mark.kafka


async def announce_registration(bootstrap: str, member_id: str) -> None:
    """As members' relay publishes a registration."""
    payload = MemberRegisteredV1(member_id=member_id, card_no="8800000000018", channel="retail", home_store_id="S001",
                                 registered_at=datetime.now(UTC))
    value, headers = to_kafka(new_event(MEMBER_REGISTERED, payload, source="members", subject=member_id))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(Topics.MEMBERS, value=value, key=member_id.encode(), headers=headers)
    finally:
        await producer.stop()


def test_the_demo_dead_letter_is_a_registration_members_announced_planted_once(broker) -> None:
    asyncio.run(announce_registration(broker.bootstrap, "m-demo-dead-letter"))
    assert plant_demo_dead_letter(broker.bootstrap) is True
    assert plant_demo_dead_letter(broker.bootstrap) is False
    [letter] = asyncio.run(read_topic(broker.bootstrap, Topics.DEAD_LETTER, expected=1, then_wait=1.0))
    headers = {k: v.decode() for k, v in letter.headers}
    assert headers["dlq_original_topic"] == Topics.MEMBERS and headers["dlq_error"].startswith("OperationalError")
    assert headers["dlq_consumer_group"] == "points"
    # The very record members published, its event id included: the consumers that took it apply
    # a replay of it once, as the event they have.
    announced = asyncio.run(read_topic(broker.bootstrap, Topics.MEMBERS, expected=1, then_wait=1.0))
    [original] = [r for r in announced if dict(r.headers)["ce_id"].decode() == headers["ce_id"]]
    assert dict(original.headers)["ce_type"].decode() == MEMBER_REGISTERED
    assert (letter.key, letter.value) == (original.key, original.value)
    assert (headers["dlq_original_partition"], headers["dlq_original_offset"]) == (str(original.partition), str(original.offset))
