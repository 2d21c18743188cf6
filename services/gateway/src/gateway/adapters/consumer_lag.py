"""How far behind each consumer group is, counted by fetching.

The broker's reported high watermark can be wrong (Tansu's undercounts after batched produces), so
the records after a group's committed offset are fetched and counted, up to a cap per partition;
the first of them tells how long it has been waiting. A partition is read to its end only once
the broker has answered a fetch of it: on a loaded broker the first answer can take longer than
the quiet time, and a group behind would have been reported caught up. A group's partitions are
read together and the groups at once, so a page waits about one quiet time, not one for every
partition of every group (16 s a page with every service's topics). Read with a consumer of
no group, so the groups measured are never disturbed. Every client logs in as the operator
(`adapters.operator_kafka`): reading other services' topics and groups is not the gateway's own
right."""

import asyncio
import time
from collections.abc import Mapping
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from gateway.adapters.operator_kafka import operator_settings
from gateway.config import Settings
from gateway.domain.dead_letters import BrokerAway
from gateway.domain.event_flow import PartitionLag
from shared.events.registry import REGISTRY
from shared.kafka import client_kwargs, close_quietly, record_time

QUIET_MS = 300
# How long the broker has to answer the first fetch of a partition. Until it has, an empty poll
# means a slow broker (or one under load), not a group that has caught up.
ANSWER_S = 10.0
# A page waits no longer for any request to the broker (aiokafka's default is 40 s): a broker that
# does not answer within it is reported away.
REQUEST_TIMEOUT_MS = int(ANSWER_S * 1000)


async def group_lags(gateway: Settings, groups: list[str], cap: int, reads: Mapping[str, list[str]] | None = None) -> list[PartitionLag]:
    """Each group's lag on every partition of the topics it has committed on and of those its
    service says it reads (`reads`, group -> topics); a partition without a commit yet is counted
    from its start, where the group's consumer starts (`auto_offset_reset="earliest"`). The groups
    are measured at once, each with a reader of its own: the page waits for the slowest of them, not
    for their sum."""
    settings = operator_settings(gateway)
    found: list[PartitionLag] = []
    try:
        partitions = await _partitions(settings)
        measured = await asyncio.gather(*(
            _group_lags(settings, group, partitions, set((reads or {}).get(group, ())), cap) for group in groups
        ), return_exceptions=True)  # every group's readers closed before an error is raised
        for lags in measured:
            if isinstance(lags, BaseException):
                raise lags
            found += lags
    except KafkaError as exc:
        raise BrokerAway(f"the broker cannot be reached to measure the lag: {type(exc).__name__}") from exc
    return found


def _reader(settings: Settings) -> AIOKafkaConsumer:
    # fetch_max_wait_ms under the quiet time: the broker answers a fetch at the end of a partition
    # within it, so a caught-up group costs one quiet time, not the broker's default 500 ms.
    return AIOKafkaConsumer(**client_kwargs(settings), client_id=f"{settings.service_name}-console", group_id=None,
                            enable_auto_commit=False, auto_offset_reset="earliest", fetch_max_wait_ms=QUIET_MS // 3,
                            request_timeout_ms=REQUEST_TIMEOUT_MS)


async def _partitions(settings: Settings) -> list[TopicPartition]:
    """Every partition of the platform's topics that the broker has. Listed by a reader of its own:
    once a reader is assigned partitions, its metadata covers only their topics."""
    topics = sorted(settings.topic(name) for name in REGISTRY.topics())
    reader = _reader(settings)
    try:
        await reader.start()
        known = await reader.topics()
        return [TopicPartition(topic, p) for topic in topics if topic in known for p in sorted(reader.partitions_for_topic(topic) or ())]
    finally:
        await close_quietly(reader)


async def _group_lags(settings: Settings, group: str, partitions: list[TopicPartition], reads: set[str], cap: int) -> list[PartitionLag]:
    committed = await _committed(settings, group, partitions)
    read = {tp.topic for tp, offset in committed.items() if offset is not None} | reads
    reader = _reader(settings)
    try:
        await reader.start()
        return await _behind(reader, group, [tp for tp in partitions if tp.topic in read], committed, cap)
    finally:
        await close_quietly(reader)


async def _committed(settings: Settings, group: str, partitions: list[TopicPartition]) -> dict[TopicPartition, int | None]:
    """The group's committed offsets, asked as a member of no generation: the consumer never
    subscribes, so it never joins the group nor commits anything."""
    asking = AIOKafkaConsumer(**client_kwargs(settings), client_id=f"{settings.service_name}-console", group_id=group,
                              enable_auto_commit=False, request_timeout_ms=REQUEST_TIMEOUT_MS)
    try:
        await asking.start()
        return {tp: await asking.committed(tp) for tp in partitions}
    finally:
        await close_quietly(asking)


async def _behind(
    reader: AIOKafkaConsumer, group: str, partitions: list[TopicPartition], committed: Mapping[TopicPartition, int | None], cap: int,
) -> list[PartitionLag]:
    """The group's lag on each of `partitions`, fetched together from its committed offsets. A poll
    returns as soon as any partition has records, so a partition that brought none in it may have
    more on the way: the end is only a poll that brought nothing from any of them in the quiet
    time, and then only for the partitions the broker has answered a fetch of."""
    if not partitions:
        return []
    reader.assign(partitions)
    for tp in partitions:
        if committed[tp] is None:
            await reader.seek_to_beginning(tp)
        else:
            reader.seek(tp, committed[tp])
    count = dict.fromkeys(partitions, 0)
    oldest: dict[TopicPartition, datetime | None] = {}
    reading = set(partitions)
    answer_by = time.monotonic() + ANSWER_S
    while reading:
        # Everything fetched so far (no max_records), of every partition still read.
        batch = await reader.getmany(*reading, timeout_ms=QUIET_MS)
        for tp, records in batch.items():
            oldest.setdefault(tp, record_time(records[0].timestamp))
            count[tp] += len(records)
            if count[tp] >= cap:
                reading.discard(tp)
                reader.pause(tp)  # counted enough: fetched no further
        if batch:
            continue
        reading -= {tp for tp in reading if reader.highwater(tp) is not None}
        if reading and time.monotonic() >= answer_by:
            tp = min(reading)
            raise BrokerAway(f"the broker did not answer a fetch of {tp.topic}[{tp.partition}] within {ANSWER_S:.0f} s")
    return [PartitionLag(group, tp.topic, tp.partition, committed[tp], min(count[tp], cap), count[tp] >= cap, oldest.get(tp))
            for tp in partitions]
