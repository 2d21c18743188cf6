"""Customer messages name a store as the gateway last named it (`store_changed`), on SQLite and
PostgreSQL: a request names its store by id and the sender fills in the name when it records the
message; a store the gateway has not announced keeps the name the request brought, else its id."""

import uuid
from datetime import timedelta

import pytest
from sqlmodel import select

from campaigns.adapters.tables import MessageRow
from shared.events import contracts as c
from shared.events.envelope import Envelope, new_event
from shared.events.registry import NOTIFICATION_REQUESTED, STORE_CHANGED
from tests.support.audience import T0, registered

pytestmark = pytest.mark.integration

MANAGER = {"manager_name": "王芳", "manager_phone": "021-5555-0101"}


def store_changed(store_id: str, name: str, minutes: int = 0, *, active: bool = True) -> Envelope:
    data = c.StoreChangedV1(store_id=store_id, name=name, city="杭州", active=active,
                            changed_at=T0 + timedelta(minutes=minutes))
    return new_event(STORE_CHANGED, data, source="crm/gateway", subject=store_id, event_id=str(uuid.uuid4()))


async def message_of(cmp, member_id: str) -> MessageRow:
    async with cmp.app.state.sessions() as s:
        (message,) = (await s.exec(select(MessageRow).where(MessageRow.member_id == member_id))).all()
    return message


async def welcomed(cmp, member_id: str, params: dict[str, str]) -> MessageRow:
    """The VIP welcome members asks for, naming the manager's store by id."""
    await cmp.apply(registered(member_id))
    data = c.NotificationRequestedV1(notification_id=f"n-{member_id}", member_id=member_id, template="vip_welcome",
                                     params=params, requested_at=T0)
    await cmp.apply(new_event(NOTIFICATION_REQUESTED, data, source="crm/members", subject=member_id))
    return await message_of(cmp, member_id)


async def test_a_message_names_the_store_as_the_gateway_last_named_it(cmp) -> None:
    await cmp.apply(store_changed("S001", "城东店"))
    first = await welcomed(cmp, "m-1", MANAGER | {"store_id": "S001"})
    assert first.params["store_name"] == "城东店"
    assert first.text is not None and "恭喜您成为城东店的VIP会员" in first.text

    # Renamed at the gateway: the next message has the new name; the one recorded keeps its own.
    await cmp.apply(store_changed("S001", "城东大卖场", minutes=5))
    second = await welcomed(cmp, "m-2", MANAGER | {"store_id": "S001"})
    assert second.text is not None and "恭喜您成为城东大卖场的VIP会员" in second.text
    assert (await message_of(cmp, "m-1")).params["store_name"] == "城东店"


async def test_an_older_change_arriving_late_does_not_bring_an_old_name_back(cmp) -> None:
    await cmp.apply(store_changed("S001", "城东大卖场", minutes=5))
    await cmp.apply(store_changed("S001", "城东店", minutes=0))  # e.g. replayed from the dead letters
    message = await welcomed(cmp, "m-1", MANAGER | {"store_id": "S001"})
    assert message.params["store_name"] == "城东大卖场"


async def test_a_store_not_announced_keeps_the_name_the_request_brought_else_its_id(cmp) -> None:
    # A request from before stores were announced carries the name its service gave it.
    brought = await welcomed(cmp, "m-1", MANAGER | {"store_id": "S009", "store_name": "九堡店"})
    assert brought.params["store_name"] == "九堡店"
    unnamed = await welcomed(cmp, "m-2", MANAGER | {"store_id": "S009"})
    assert unnamed.params["store_name"] == "S009"
    assert unnamed.text is not None and "恭喜您成为S009的VIP会员" in unnamed.text
