"""The member directory points keeps for the access policy, fed by members' events."""

from datetime import UTC, datetime, timedelta

import pytest

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


async def test_registration_still_opens_the_points_account_alongside_the_directory(pts) -> None:
    await pts.apply(pts.registered("d2", channel="partner", card_no="8800000000022", home_store_id="S002"))
    assert (await facts(pts, "d2")).home_store_id == "S002"
    account = await pts.account("d2")
    assert (account["channel"], account["balance"]) == ("partner", 0)
