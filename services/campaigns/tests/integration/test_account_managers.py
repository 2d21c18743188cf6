"""The account manager a VIP's welcome introduces, on SQLite and PostgreSQL: members' request names
the manager by id (no names or phones on the bus), the sender looks their name and work phone up in
members when it takes the request in, so the stored text (the member's inbox) names them; members
being away leaves the welcome waiting for the dispatch job, not the consumer, a manager members
does not know fails the message,
and a request published before, with the name and phone in it, renders as it is."""

import uuid

import httpx
import pytest
from sqlmodel import col, select

from campaigns.adapters.members_api import MembersClient, StaffDirectory
from campaigns.adapters.tables import MessageRow
from campaigns.service_layer.account_managers import NO_CREDENTIAL
from shared.events import contracts as c
from shared.events.envelope import Envelope, new_event
from shared.events.registry import CAMPAIGN_NOTIFICATION_REQUESTED, NOTIFICATION_REQUESTED
from tests.support.audience import T0, consent, registered
from tests.support.providers import ServiceTokens

pytestmark = pytest.mark.integration

WANG = {"id": "am-1", "name": "王芳", "work_phone": "021-5555-0101", "store_id": "S001", "role": "account_manager",
        "active": True, "communities": [], "customers": 3}
TEXT = "【邻里生活超市】尊敬的会员，恭喜您成为S001的VIP会员！我是您的专属客户经理王芳，工作电话021-5555-0101，有需要随时联系。"


def welcome(member_id: str, params: dict[str, str], *, event_id: str | None = None) -> Envelope:
    data = c.NotificationRequestedV1(notification_id=f"n-{member_id}", member_id=member_id, template="vip_welcome",
                                     params=params, requested_at=T0)
    return new_event(NOTIFICATION_REQUESTED, data, source="crm/members", subject=member_id,
                     event_id=event_id or str(uuid.uuid4()))


class Members:
    """Members' staff directory as campaigns reaches it over HTTP: `away` answers 503 to all."""

    def __init__(self, staff: list[dict]) -> None:
        self.staff = {s["id"]: s for s in staff}
        self.away = False
        self.asked: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"].startswith("Bearer ")
        if self.away:
            return httpx.Response(503, json={"detail": "the members database is unavailable, retry later"})
        staff_id = request.url.path.removeprefix("/v1/staff/")
        self.asked.append(staff_id)
        found = self.staff.get(staff_id)
        return httpx.Response(200, json=found) if found else httpx.Response(404, json={"detail": f"no staff member {staff_id}"})


@pytest.fixture
def members(cmp) -> Members:
    """Stands in for members in the sender's providers, as start-up makes them with a credential."""
    members = Members([WANG])
    client = MembersClient("http://members", ServiceTokens(cmp.env.issuer), timeout_s=2,
                           transport=httpx.MockTransport(members))
    cmp.app.state.providers.staff = StaffDirectory(client)
    cmp.app.state.providers.clients.append(client)  # closed at shutdown
    return members


async def messages_of(cmp, member_id: str) -> list[MessageRow]:
    async with cmp.app.state.sessions() as s:
        found = await s.exec(select(MessageRow).where(MessageRow.member_id == member_id).order_by(col(MessageRow.source)))
        return list(found.all())


async def test_a_welcome_names_the_manager_members_gives_in_the_text_it_stores_and_sends(cmp, members) -> None:
    await cmp.apply(registered("m-1"))
    await cmp.apply(welcome("m-1", {"manager_id": "am-1", "store_id": "S001"}))
    (message,) = await messages_of(cmp, "m-1")
    assert (message.status, message.text) == ("queued", TEXT)
    assert (message.params["manager_name"], message.params["manager_phone"]) == ("王芳", "021-5555-0101")
    assert members.asked == ["am-1"]
    assert (await cmp.run_job("message-dispatch"))["sent"] == 1
    r = await cmp.client.get("/v1/members/m-1/messages", headers=cmp.member("m-1"))
    assert [m["text"] for m in r.json()] == [TEXT]


async def test_a_welcome_campaign_passes_the_manager_on_by_id_and_its_message_names_them(cmp, members) -> None:
    await cmp.apply(registered("m-1"), consent("m-1", "marketing_sms", True))
    coupon = await cmp.template(kind="amount_off", amount="10", threshold=None, validity={"days": 14})
    made = await cmp.launched(name="VIP 礼券", kind="triggered", trigger="vip_welcome", coupon_template_id=coupon,
                              control_share="0", message={"template": "vip_welcome"})
    await cmp.apply(welcome("m-1", {"manager_id": "am-1", "store_id": "S001"}))
    # The campaign's own request, on campaigns' topic, carries no name or phone either.
    [asked] = await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)
    assert asked["params"]["manager_id"] == "am-1" and not {"manager_name", "manager_phone"} & set(asked["params"])
    await cmp.apply(new_event(CAMPAIGN_NOTIFICATION_REQUESTED, c.CampaignNotificationRequestedV2.model_validate(asked),
                              source="crm/campaigns", subject="m-1"))
    [theirs] = [m for m in await messages_of(cmp, "m-1") if m.campaign_id == made["id"]]
    assert theirs.text is not None and "客户经理王芳，工作电话021-5555-0101" in theirs.text


async def test_members_being_away_holds_the_welcome_not_the_consumer_until_members_answers(cmp, members) -> None:
    await cmp.apply(registered("m-1"), registered("m-2"))
    members.away = True
    # Taken in at once: the consumer goes on to the next event, the welcome waits unrendered.
    await cmp.apply(welcome("m-1", {"manager_id": "am-1", "store_id": "S001"}))
    (waiting,) = await messages_of(cmp, "m-1")
    assert (waiting.status, waiting.text, waiting.reason) == (
        "queued", None, "waiting for the account manager's name: account manager look-up: members answered 503")
    await cmp.apply(consent("m-2", "marketing_sms", True))  # what comes next is not held up
    # Due while members is still away: not handed over, not failed, no attempt spent; asked again later.
    cmp.clock.advance(minutes=1)
    ran = await cmp.run_job("message-dispatch")
    assert (ran["due"], ran["waiting"], ran["sent"], ran["failed"]) == (1, 1, 0, 0)
    (waiting,) = await messages_of(cmp, "m-1")
    assert (waiting.status, waiting.text, waiting.attempts) == ("queued", None, 0)
    assert (await cmp.run_job("message-dispatch"))["due"] == 0  # not due again within the minute
    members.away = False
    cmp.clock.advance(minutes=1)
    ran = await cmp.run_job("message-dispatch")
    assert (ran["due"], ran["sent"]) == (1, 1)
    (message,) = await messages_of(cmp, "m-1")
    assert (message.status, message.text, message.reason) == ("sent", TEXT, None)
    assert (message.params["manager_name"], message.params["manager_phone"]) == ("王芳", "021-5555-0101")
    r = await cmp.client.get("/v1/members/m-1/messages", headers=cmp.member("m-1"))
    assert [m["text"] for m in r.json()] == [TEXT]


async def test_a_manager_members_no_longer_knows_when_it_answers_fails_the_waiting_welcome(cmp, members) -> None:
    await cmp.apply(registered("m-1"))
    members.away = True
    await cmp.apply(welcome("m-1", {"manager_id": "am-gone", "store_id": "S001"}))
    members.away = False
    cmp.clock.advance(minutes=1)
    assert (await cmp.run_job("message-dispatch"))["failed"] == 1
    (message,) = await messages_of(cmp, "m-1")
    assert (message.status, message.reason, message.text) == (
        "failed", "account manager look-up: members knows no staff member am-gone", None)


async def test_a_manager_members_does_not_know_fails_the_welcome_saying_so(cmp, members) -> None:
    await cmp.apply(registered("m-1"))
    await cmp.apply(welcome("m-1", {"manager_id": "am-gone", "store_id": "S001"}))
    (message,) = await messages_of(cmp, "m-1")
    assert (message.status, message.reason, message.text) == (
        "failed", "account manager look-up: members knows no staff member am-gone", None)


async def test_without_a_credential_for_members_a_welcome_fails_saying_so(cmp) -> None:
    await cmp.apply(registered("m-1"))
    await cmp.apply(welcome("m-1", {"manager_id": "am-1", "store_id": "S001"}))
    (message,) = await messages_of(cmp, "m-1")
    assert (message.status, message.reason) == ("failed", NO_CREDENTIAL)


async def test_a_welcome_published_before_renders_with_its_own_name_and_phone_asking_nobody(cmp, members) -> None:
    await cmp.apply(registered("m-old"), registered("m-new"))
    older = {"manager_name": "李经理", "manager_phone": "0571-88881234", "store_id": "S001"}
    await cmp.apply(welcome("m-old", older), welcome("m-new", {"manager_id": "am-1", "store_id": "S001"}))
    (old,) = await messages_of(cmp, "m-old")
    assert old.status == "queued" and old.text is not None and "客户经理李经理，工作电话0571-88881234" in old.text
    (new,) = await messages_of(cmp, "m-new")
    assert (new.status, new.text) == ("queued", TEXT)
    assert members.asked == ["am-1"]  # the older request cost no look-up
