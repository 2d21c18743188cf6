"""The demo plants one dead letter for the console's operators, once per broker log."""

import asyncio

import pytest

from crm_cli.demo_dead_letter import EVENT_ID, MEMBER_ID, plant_demo_dead_letter
from shared.events.registry import Topics
from tests.support.kafka_reader import read_topic

pytestmark = pytest.mark.kafka


def test_the_demo_dead_letter_is_planted_once_as_a_consumer_would_have_dead_lettered_it(broker) -> None:
    assert plant_demo_dead_letter(broker.bootstrap) is True
    assert plant_demo_dead_letter(broker.bootstrap) is False
    [record] = asyncio.run(read_topic(broker.bootstrap, Topics.DEAD_LETTER, expected=1, then_wait=1.0))
    headers = {k: v.decode() for k, v in record.headers}
    assert headers["ce_id"] == EVENT_ID and record.key == MEMBER_ID.encode()
    assert headers["dlq_original_topic"] == Topics.MEMBERS and headers["dlq_error"].startswith("OperationalError")
