"""Points consuming from the real broker: redelivery, batches, a return before its sale, a restart."""

import pytest
from aiokafka import AIOKafkaProducer
from sqlmodel import func, select

from points.adapters.tables import PendingReturnRow
from shared.events.binding import to_kafka
from shared.events.envelope import Envelope
from shared.events.registry import Topics
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


async def produce(pts, *envelopes: Envelope) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=pts.env.broker.bootstrap, acks="all")
    await producer.start()
    try:
        for e in envelopes:
            value, headers = to_kafka(e)
            await producer.send(pts.app.state.settings.topic(Topics.MEMBERS), key=(e.subject or "").encode(), value=value, headers=headers)
        await producer.flush()
    finally:
        await producer.stop()


async def settled(pts, member_id: str, balance: int, entries: int) -> None:
    async def probe() -> bool:
        r = await pts.client.get(f"/v1/accounts/{member_id}?entries=200", headers=pts.desk())
        return r.status_code == 200 and (r.json()["balance"], len(r.json()["entries"])) == (balance, entries)

    await eventually(probe, timeout=40, what=f"{member_id} at {balance} in {entries} entries")


async def waiting(pts) -> bool:
    async with pts.app.state.sessions() as s:
        return (await s.exec(select(func.count()).select_from(PendingReturnRow))).one() == 1


async def test_redelivered_sales_and_returns_through_the_broker_are_booked_once(env, points_url, start_live) -> None:
    async with start_live(env, points_url) as pts:
        sales = [pts.sale("k1", f"{i}0.00") for i in range(1, 41)]  # 10 + 20 + ... + 400 = 8,200
        ret = pts.ret(sales[-1], "200.00")  # half of the last sale
        await produce(pts, pts.registered("k1"), *sales, *sales[:10], ret, ret)
        await settled(pts, "k1", 8_200 - 200, 41)


async def test_a_return_published_before_its_sale_waits_for_it(env, points_url, start_live) -> None:
    async with start_live(env, points_url) as pts:
        sale = pts.sale("k2", "90.00")
        await produce(pts, pts.ret(sale, "30.00"))
        await eventually(lambda: waiting(pts), timeout=40, what="return kept until its sale")
        await produce(pts, sale)
        await settled(pts, "k2", 60, 2)


async def test_after_a_restart_events_seen_before_are_skipped(env, points_url, start_live) -> None:
    async with start_live(env, points_url) as pts:
        first = [pts.sale("k3", "100.00") for _ in range(5)]
        await produce(pts, *first)
        await settled(pts, "k3", 500, 5)
    async with start_live(env, points_url, consumer_batch_size=3) as pts:
        # The same events again (a producer retry after the restart) and new ones, in small batches.
        await produce(pts, *first, pts.sale("k3", "1.00"), *first[:2], pts.sale("k3", "2.00"))
        await settled(pts, "k3", 503, 7)
