"""The facts the access policy decides on, as feedback learns them from members' events."""

import pytest

from feedback.adapters.profiles import member_facts
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
