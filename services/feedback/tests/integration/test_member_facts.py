"""The facts the access policy decides on, as feedback learns them from members' events."""

import pytest
from sqlmodel import col, select

from feedback.adapters.profiles import member_facts
from feedback.adapters.tables import MemberProfileRow
from shared.events import contracts as c
from shared.events.envelope import Envelope, new_event
from shared.events.registry import MEMBER_ATTRIBUTES, MEMBER_PROFILE_CHANGED, MEMBER_REGISTERED
from shared.policy import MemberFacts

pytestmark = pytest.mark.integration


async def _facts(fb, member_id: str) -> MemberFacts | None:
    async with fb.app.state.sessions() as session:
        return await member_facts(session, member_id)


async def test_facts_follow_registration_analytics_managers_and_erasure(fb) -> None:
    assert await _facts(fb, "m1") is None
    await fb.register("m1", "S001", manager_id="am-1")
    assert await _facts(fb, "m1") == MemberFacts("m1", home_store_id="S001", manager_id="am-1")
    await fb.attributes("m1", "S002")  # the member now shops mostly at S002
    assert (await _facts(fb, "m1")).home_store_id == "S002"
    await fb.attributes("m1", None)  # silent on the home store: it stays as known
    assert (await _facts(fb, "m1")).home_store_id == "S002"
    await fb.erase("m1")
    erased = await _facts(fb, "m1")
    assert erased.erased_at == fb.clock() and erased.manager_id is None


async def test_analytics_alone_make_a_member_known_with_their_home_store(fb) -> None:
    await fb.attributes("m2", "S003")
    assert await _facts(fb, "m2") == MemberFacts("m2", home_store_id="S003", manager_id=None)


def _moved(member_id: str, home_store_id: str | None, at) -> Envelope:
    return new_event(MEMBER_PROFILE_CHANGED, c.MemberProfileChangedV1(
        member_id=member_id, changed_at=at, home_store_id=home_store_id, channel="retail"),
        source="crm/members", subject=member_id)


def _attributes(member_id: str, home_store_id: str, as_of) -> Envelope:
    return new_event(MEMBER_ATTRIBUTES, c.MemberAttributesV1(
        member_id=member_id, as_of=as_of, window_days=365, tier="member", channel="retail", home_store_id=home_store_id,
        recency=3, frequency=3, monetary=3, value_class="ordinary", churn_risk="low", window_spend="100.00"),
        source="crm/members", subject=member_id)


async def test_a_staff_move_takes_the_member_to_the_new_stores_staff_at_once(fb) -> None:
    """Complaints of a member staff moved are the new store's to handle from then on, not after
    the next night's analytics; attributes the analytics read before the move and published
    after it do not move them back."""
    await fb.register("m4", "S001")
    read_at = fb.clock()
    fb.clock.advance(minutes=5)
    await fb.apply(_moved("m4", "S002", fb.clock()))
    assert (await _facts(fb, "m4")).home_store_id == "S002"
    await fb.apply(_attributes("m4", "S001", read_at))
    assert (await _facts(fb, "m4")).home_store_id == "S002"
    listed = {store: await fb.client.get("/v1/complaints", params={"member_id": "m4"}, headers=fb.store_manager(store))
              for store in ("S001", "S002")}
    assert (listed["S002"].status_code, listed["S001"].status_code) == (200, 403), listed
    fb.clock.advance(days=1)
    await fb.apply(_attributes("m4", "S003", fb.clock()))  # the next night: the member shops at S003 now
    assert (await _facts(fb, "m4")).home_store_id == "S003"
    fb.clock.advance(minutes=5)
    await fb.apply(_moved("m4", None, fb.clock()))  # staff took the store away
    assert (await _facts(fb, "m4")).home_store_id is None


def _registered(member_id: str, home_store_id: str | None, at) -> Envelope:
    return new_event(MEMBER_REGISTERED, c.MemberRegisteredV1(
        member_id=member_id, card_no=f"card-{member_id}", channel="retail", home_store_id=home_store_id,
        registered_at=at), source="crm/members", subject=member_id)


async def _profiles(fb, *member_ids: str) -> dict[str, tuple]:
    async with fb.app.state.sessions() as session:
        rows = (await session.exec(select(MemberProfileRow).where(col(MemberProfileRow.member_id).in_(member_ids)))).all()
    return {r.member_id: (r.tier, r.manager_id, r.home_store_id, r.updated_at, r.erased_at) for r in rows}


async def test_a_run_of_registrations_leaves_the_profiles_one_by_one_would(fb) -> None:
    # A VIP with a manager known before the registration arrived, and a member registered twice.
    for prefix in ("r", "s"):
        await fb.make_vip(f"{prefix}1", "am-1")
    fb.clock.advance(minutes=5)
    run = [_registered("r1", "S001", fb.clock()), _registered("r2", "S002", fb.clock()), _registered("r2", None, fb.clock())]
    await fb.apply(*run)
    for envelope in run:
        data = envelope.data
        await fb.apply(_registered(data["member_id"].replace("r", "s"), data["home_store_id"], fb.clock()))
    batched = await _profiles(fb, "r1", "r2")
    assert batched == {
        "r1": ("vip", "am-1", "S001", fb.clock(), None),  # the manager and tier stay
        "r2": ("member", None, None, fb.clock(), None),  # the later registration, as one after the other
    }
    assert {m.replace("s", "r"): row for m, row in (await _profiles(fb, "s1", "s2")).items()} == batched
    fb.clock.advance(minutes=5)
    await fb.apply(*run)  # redelivered: nothing changes
    assert await _profiles(fb, "r1", "r2") == batched
