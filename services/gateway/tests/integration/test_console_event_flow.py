"""The event-flow page against the real broker: a consumer group's lag per partition counted by
fetching what lies after its committed offset, in records and in seconds; the outbox backlog of
each service that answers; and the 24-hour history drawn from the samples the job keeps."""

import re
from datetime import timedelta

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from sqlmodel import select

from gateway.adapters.clients import Downstream
from gateway.adapters.console_tables import EventFlowSampleRow
from shared.events.registry import Topics
from tests.support.console import logged_in
from tests.support.identity import MovableClock, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


@pytest.fixture
async def console(env: TestEnv, database_factory):
    closed = {f"{name}_url": "http://127.0.0.1:9" for name in ("members", "points", "feedback", "campaigns")}
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock(), **closed) as client:
        await logged_in(client, env, "op.zhang", "operator")
        yield client


async def _publish(env, topic: str, count: int) -> None:
    """`count` records to partition 0 of `topic`, as a service's relay would send them."""
    assert env.broker is not None
    producer = AIOKafkaProducer(bootstrap_servers=env.broker.bootstrap, acks="all")
    await producer.start()
    try:
        for n in range(count):
            await producer.send_and_wait(topic, value=b"{}", key=b"k", partition=0, headers=[("ce_id", f"{topic}-{n}".encode())])
    finally:
        await producer.stop()


async def test_lag_is_counted_per_group_and_partition_and_sampled_into_the_history(console, env) -> None:
    assert env.broker is not None
    topic = f"{env.prefix}{Topics.MEMBERS}"
    await _publish(env, topic, 5)
    # points' group has consumed two of the five records of partition 0.
    group = AIOKafkaConsumer(bootstrap_servers=env.broker.bootstrap, group_id=f"{env.prefix}points", enable_auto_commit=False)
    await group.start()
    try:
        group.assign([TopicPartition(topic, 0)])
        await group.commit({TopicPartition(topic, 0): OffsetAndMetadata(2, "")})
    finally:
        await group.stop()

    page = await console.get("/console/ops/event-flow")
    assert page.status_code == 200, page.text
    rows = re.findall(rf'<tr data-group="{re.escape(env.prefix)}points"><td>[^<]*</td><td>{re.escape(topic)}</td><td class="num">(\d+)</td>\s*'
                      r'<td class="num">([^<]*)</td>\s*<td class="num[^"]*">(\d+)</td><td class="num">(\d+)</td>', page.text)
    by_partition = {int(p): (committed, int(behind)) for p, committed, behind, _ in rows}
    assert by_partition[0] == ("2", 3)
    assert all(behind == 0 for p, (_, behind) in by_partition.items() if p != 0)
    # The gateway's own outbox answers; the services that are not running are said to not answer.
    assert re.search(r'<tr data-service="gateway"><th scope="row">gateway</th>\s*<td class="num">0</td>', page.text)
    assert re.search(r'<tr data-service="members">.*?无应答', page.text, re.S)

    app = console.app  # type: ignore[attr-defined]
    job = next(j for j in app.state.jobs.jobs if j.name == "event-flow-sample")
    now = app.state.clock()
    for minutes_ago in (60, 0):
        summary = await app.state.jobs.run_once(job, now - timedelta(minutes=minutes_ago))
        assert summary["samples"] >= 2, summary  # points' lag and the gateway's outbox at least
    async with app.state.commands() as uow:
        samples = (await uow.session.exec(select(EventFlowSampleRow).where(EventFlowSampleRow.subject == f"{env.prefix}points"))).all()
    assert [(s.kind, s.messages) for s in samples] == [("lag", 3), ("lag", 3)]
    assert all(s.seconds >= 0 for s in samples)

    page = await console.get("/console/ops/event-flow")
    assert page.text.count("<polyline") >= 2 and f"{env.prefix}points (3)" in page.text


async def test_a_group_that_never_committed_is_measured_on_the_topics_its_service_reads(console, env) -> None:
    # A consumer stuck from its first event (or failing every batch) never commits: its group was
    # left off the page, as if caught up, while everything it reads waited.
    assert env.broker is not None
    topic = f"{env.prefix}{Topics.POINTS}"
    await _publish(env, topic, 4)
    own = (await console.get("/health/ready")).json()
    assert own["consumer_group"] == f"{env.prefix}gateway" and own["consumer_topics"]
    assert all(t.startswith(env.prefix) for t in own["consumer_topics"])

    def members(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/health/ready":
            return httpx.Response(200, json={"status": "ready", "checks": {"database": "ok", "broker": "ok"},
                                             "consumer": "assigned", "outbox_pending": 0,
                                             "consumer_group": f"{env.prefix}members", "consumer_topics": [topic]})
        return httpx.Response(200, json={"status": "live"})

    def away(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("nothing listens", request=request)

    app = console.app  # type: ignore[attr-defined]
    app.state.downstream = Downstream(members=httpx.AsyncClient(transport=httpx.MockTransport(members), base_url="http://members"),
                                      points=httpx.AsyncClient(transport=httpx.MockTransport(away), base_url="http://points"))
    page = await console.get("/console/ops/event-flow")
    assert page.status_code == 200, page.text
    rows = re.findall(rf'<tr data-group="{re.escape(env.prefix)}members"><td>[^<]*</td><td>{re.escape(topic)}</td><td class="num">0</td>\s*'
                      r'<td class="num">([^<]*)</td>\s*<td class="num[^"]*">(\d+)</td>', page.text)
    assert rows == [("—", "4")]
    # A group neither committed nor named by its service (feedback is not running) is said to be unmeasured.
    unmeasured = re.search(r'<p id="unmeasured"[^>]*>(.*?)</p>', page.text, re.S)
    assert unmeasured and f"{env.prefix}feedback" in unmeasured.group(1) and f"{env.prefix}members" not in unmeasured.group(1)


async def test_with_the_broker_away_the_page_says_so_and_not_that_no_group_committed(env, database_factory) -> None:
    closed = {f"{name}_url": "http://127.0.0.1:9" for name in ("members", "points", "feedback", "campaigns")}
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock(), kafka_bootstrap="127.0.0.1:9",
                                   **closed) as client:
        await logged_in(client, env, "op.zhang", "operator")
        page = await client.get("/console/ops/event-flow")
    assert page.status_code == 200, page.text
    lags = page.text.split('id="lags"')[1].split("</table>")[0]
    assert "the broker cannot be reached to measure the lag" in page.text
    assert "尚无消费组提交位移" not in lags
