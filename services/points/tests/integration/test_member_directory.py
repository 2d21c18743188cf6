"""The member directory points keeps for the access policy, fed by members' events."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from points.adapters.tables import AccountRow
from shared.member_directory import member_facts
from shared.policy import MemberFacts

pytestmark = pytest.mark.integration

ERASED_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


async def facts(pts, member_id: str) -> MemberFacts | None:
    async with pts.app.state.sessions() as session:
        return await member_facts(session, member_id)


async def test_the_directory_learns_home_store_manager_and_erasure_in_any_order(pts) -> None:
    assignment = pts.assigned("d1", "am-1")
    await pts.apply(assignment)  # before the registration: the manager must survive it
    await pts.apply(pts.registered("d1", home_store_id="S001"))
    assert await facts(pts, "d1") == MemberFacts("d1", "S001", "am-1")
    await pts.apply(pts.attributes("d1", "S002"), pts.attributes("d1", None))  # no store in the second: kept
    await pts.apply(pts.registered("d1", home_store_id="S003"))  # a late registration does not move them back
    assert await facts(pts, "d1") == MemberFacts("d1", "S002", "am-1")
    await pts.apply(pts.assigned("d1", None))  # the manager left
    assert (await facts(pts, "d1")).manager_id is None
    erasure = pts.erased("d1", at=ERASED_AT)
    await pts.apply(erasure)
    await pts.apply(erasure, pts.erased("d1", at=ERASED_AT + timedelta(days=1)))  # redelivered; again under a new id
    assert await facts(pts, "d1") == MemberFacts("d1", "S002", None, erased_at=ERASED_AT)  # the first time stays
    assert await facts(pts, "nobody") is None


async def test_attributes_read_before_a_staff_move_do_not_move_the_member_back(pts) -> None:
    """The analytics read the member at 02:00, staff moved them at 02:05, the job published at
    02:10: the store staff chose stands, and the next night's attributes carry it."""
    night = ERASED_AT.replace(hour=2)
    await pts.apply(pts.registered("d3", home_store_id="S001"))
    await pts.apply(pts.profile_changed("d3", home_store_id="S002", at=night + timedelta(minutes=5)))
    await pts.apply(pts.attributes("d3", "S001", as_of=night))
    assert (await facts(pts, "d3")).home_store_id == "S002"
    await pts.apply(pts.attributes("d3", "S002", as_of=night + timedelta(days=1)))
    await pts.apply(pts.profile_changed("d3", home_store_id=None, at=night + timedelta(days=1, hours=3)))
    assert (await facts(pts, "d3")).home_store_id is None  # staff took the store away
    # A move staff made and the attributes of the same run after it, delivered in any order.
    await pts.apply(pts.attributes("d4", "S003", as_of=night + timedelta(minutes=10)),
                    pts.profile_changed("d4", home_store_id="S002", at=night + timedelta(minutes=5)))
    await pts.apply(pts.registered("d4", home_store_id="S001"))
    assert (await facts(pts, "d4")).home_store_id == "S003"


async def test_registration_still_opens_the_points_account_alongside_the_directory(pts) -> None:
    await pts.apply(pts.registered("d2", channel="partner", card_no="8800000000022", home_store_id="S002"))
    assert (await facts(pts, "d2")).home_store_id == "S002"
    account = await pts.account("d2")
    assert (account["channel"], account["balance"]) == ("partner", 0)



async def accounts(pts, *member_ids: str) -> dict[str, tuple[str, str | None, int]]:
    async with pts.app.state.sessions() as s:
        rows = (await s.exec(select(AccountRow).where(col(AccountRow.member_id).in_(member_ids)))).all()
    return {r.member_id: (r.channel, r.card_no, r.balance) for r in rows}


async def registrations(pts, prefix: str, *, one_by_one: bool) -> list:
    """An account a sale opened first (default channel, no card), a member registered twice, and
    one whose manager was assigned before the registration arrived; applied as one run or each in
    a batch of its own. Answers the registrations."""
    await pts.apply(pts.sale(f"{prefix}1", "100.00"), pts.assigned(f"{prefix}3", "am-3"))
    run = [
        pts.registered(f"{prefix}1", channel="partner", card_no="8800000000101", home_store_id="S001"),
        pts.registered(f"{prefix}2", channel="retail", card_no="8800000000102", home_store_id=None),
        pts.registered(f"{prefix}2", channel="partner", card_no="8800000000202", home_store_id="S002"),
        pts.registered(f"{prefix}3", channel="retail", card_no="8800000000103", home_store_id="S003"),
    ]
    if one_by_one:
        for envelope in run:
            await pts.apply(envelope)
    else:
        await pts.apply(*run)
    return run


async def test_a_run_of_registrations_opens_accounts_and_directory_rows_as_one_by_one(pts) -> None:
    run = await registrations(pts, "r", one_by_one=False)
    await registrations(pts, "s", one_by_one=True)
    batched = await accounts(pts, "r1", "r2", "r3")
    assert {m: (ch, card) for m, (ch, card, _) in batched.items()} == {
        "r1": ("partner", "8800000000101"),  # the account the sale opened takes channel and card
        "r2": ("partner", "8800000000202"),  # the later registration wins, as one after the other
        "r3": ("retail", "8800000000103"),
    }
    assert batched["r1"][2] == await pts.balance("r1") > 0  # the sale's points stay
    one_by_one = await accounts(pts, "s1", "s2", "s3")
    assert {m.replace("s", "r"): row for m, row in one_by_one.items()} == batched
    for member in ("1", "2", "3"):
        run_facts, single = await facts(pts, f"r{member}"), await facts(pts, f"s{member}")
        assert (run_facts.home_store_id, run_facts.manager_id) == (single.home_store_id, single.manager_id)
    assert await facts(pts, "r2") == MemberFacts("r2", "S002", None)  # the first store known
    assert (await facts(pts, "r3")).manager_id == "am-3"
    await pts.apply(*run)  # redelivered: nothing changes
    assert await accounts(pts, "r1", "r2", "r3") == batched
