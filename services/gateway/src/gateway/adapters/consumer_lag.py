"""How far behind each consumer group is, counted by fetching.

The broker's reported high watermark can be wrong (Tansu's undercounts after batched produces), so
the records after a group's committed offset are fetched and counted, up to a cap per partition;
the first of them tells how long it has been waiting. A partition is read to its end only once
the broker has answered a fetch of it: on a loaded broker the first answer can take longer than
the quiet time, and a group behind would have been reported caught up. Read with a consumer of
no group, so the groups measured are never disturbed. Every client logs in as the operator
(`adapters.operator_kafka`): reading other services' topics and groups is not the gateway's own
right."""

import time
from collections.abc import Mapping

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
    from its start, where the group's consumer starts (`auto_offset_reset="earliest"`)."""
    settings = operator_settings(gateway)
    topics = sorted(settings.topic(name) for name in REGISTRY.topics())
    # fetch_max_wait_ms under the quiet time: the broker answers a fetch at the end of a partition
    # within it, so a caught-up partition costs one quiet time, not the broker's default 500 ms.
    reader = AIOKafkaConsumer(**client_kwargs(settings), client_id=f"{settings.service_name}-console", group_id=None,
                              enable_auto_commit=False, auto_offset_reset="earliest", fetch_max_wait_ms=QUIET_MS // 3,
                              request_timeout_ms=REQUEST_TIMEOUT_MS)
    try:
        await reader.start()
        known = await reader.topics()  # metadata of every topic, for their partitions
        # Listed once, before measuring: once the reader is assigned a partition, its metadata
        # covers only the assigned topics, and the next group would see the others as absent.
        partitions = [TopicPartition(topic, p) for topic in topics if topic in known
                      for p in sorted(reader.partitions_for_topic(topic) or ())]
        found: list[PartitionLag] = []
        for group in groups:
            committed = await _committed(settings, group, partitions)
            read = {tp.topic for tp, offset in committed.items() if offset is not None} | set((reads or {}).get(group, ()))
            for topic in sorted(read):
                for tp in sorted((tp for tp in committed if tp.topic == topic), key=lambda tp: tp.partition):
                    found.append(await _behind(reader, group, tp, committed[tp], cap))
        return found
    except KafkaError as exc:
        raise BrokerAway(f"the broker cannot be reached to measure the lag: {type(exc).__name__}") from exc
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


async def _behind(reader: AIOKafkaConsumer, group: str, tp: TopicPartition, committed: int | None, cap: int) -> PartitionLag:
    reader.assign([tp])
    if committed is None:
        await reader.seek_to_beginning(tp)
    else:
        reader.seek(tp, committed)
    count, oldest = 0, None
    answer_by = time.monotonic() + ANSWER_S
    while count < cap:
        batch = await reader.getmany(tp, timeout_ms=QUIET_MS, max_records=min(500, cap - count))
        records = batch.get(tp, [])
        if not records:
            # The end of what the group has to read, once the broker has answered a fetch of this
            # partition (its high watermark is known from then on); before that, only a slow answer.
            if reader.highwater(tp) is not None:
                break
            if time.monotonic() >= answer_by:
                raise BrokerAway(f"the broker did not answer a fetch of {tp.topic}[{tp.partition}] within {ANSWER_S:.0f} s")
            continue
        if oldest is None:
            oldest = record_time(records[0].timestamp)
        count += len(records)
    return PartitionLag(group, tp.topic, tp.partition, committed, count, count >= cap, oldest)
