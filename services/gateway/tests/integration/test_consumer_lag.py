"""The console's lag reader on the real broker: each group's lag on the topics it committed on,
however many groups are measured in one call."""

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from gateway.adapters.consumer_lag import group_lags
from gateway.config import Settings
from shared.events.registry import Topics
from shared.kafka import ensure_topics
from tests.support.platform import TestEnv

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


async def _commit(settings: Settings, group: str, offsets: dict[TopicPartition, int]) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def test_every_group_is_measured_on_its_own_topics(env: TestEnv, broker) -> None:
    settings = env.settings(Settings, "sqlite+aiosqlite:///unused.db")
    sales, members = settings.topic(Topics.POS_PURCHASES), settings.topic(Topics.MEMBERS)
    await ensure_topics(settings, {sales, members})
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for n in range(5):
            await producer.send_and_wait(sales, b"{}", partition=0, key=f"s{n}".encode())
        for n in range(3):
            await producer.send_and_wait(members, b"{}", partition=0, key=f"m{n}".encode())
    finally:
        await producer.stop()
    # One group read two of the five sales; another all the members' events but one. Measuring the
    # first assigns the reader a partition, which must not hide the second group's topic.
    await _commit(settings, settings.topic("sales-reader"), {TopicPartition(sales, 0): 2})
    await _commit(settings, settings.topic("members-reader"), {TopicPartition(members, 0): 2})

    found = await group_lags(settings, [settings.topic("sales-reader"), settings.topic("members-reader")], cap=100)

    measured = {(lag.group, lag.topic, lag.partition): lag.behind for lag in found if lag.partition == 0}
    assert measured == {(settings.topic("sales-reader"), sales, 0): 3, (settings.topic("members-reader"), members, 0): 1}
