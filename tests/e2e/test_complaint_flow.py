"""A VIP's complaint lands in their account manager's queue, is resolved with points, and the
points appear in the customer-360 view: members, feedback, points and the gateway over the broker."""

import uuid

import pytest
from sqlmodel import select

from feedback.adapters.tables import MemberProfileRow
from shared.auth import Role
from shared.events.envelope import Envelope
from shared.events.registry import COMPLAINT_RESOLVED
from shared.outbox import OutboxRecord
from tests.support.factories import keyed, line, member_body, sale_body
from tests.support.platform import Platform, TestEnv, platform
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]

MANAGER = "am-wang"


def _as(p: Platform, role: Role, subject: str, **claims) -> dict[str, str]:
    return {"Authorization": f"Bearer {p.env.issuer.mint(subject, role, **claims)}"}


async def _vip_with_manager(p: Platform) -> dict:
    """A customer of 阳光花园 whose account manager is am-wang, made VIP by real POS sales."""
    admin = p.env.auth(Role.ADMIN)
    r = await p.gateway.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=admin)
    assert r.status_code == 200, r.text
    r = await p.gateway.post("/api/v1/members", json=member_body(community="阳光花园"), headers=p.env.auth(Role.SERVICE_DESK, store_id="S001"))
    assert r.status_code == 201, r.text
    member = r.json()
    r = await p.members.post("/v1/staff", json={"id": MANAGER, "name": "王经理", "work_phone": "0571-88886666",
                                                "store_id": "S001", "role": "account_manager"}, headers=admin)
    assert r.status_code == 201, r.text
    r = await p.members.put(f"/v1/staff/{MANAGER}/communities/{member['community_id']}", headers=admin)
    assert r.status_code == 200, r.text
    for unit_price in ("2600.00", "2400.00"):  # 5,000 yuan in two sales
        sale = sale_body(member={"card_no": member["card_no"]}, lines=[line(qty="1", unit_price=unit_price)])
        r = await p.gateway.post("/pos/v1/purchases", json=sale, headers=p.env.auth(Role.POS, store_id="S001"))
        assert r.status_code == 202, r.text
    return member


async def _feedback_knows_the_manager(p: Platform, member_id: str) -> bool:
    async with p.apps["feedback"].state.sessions() as s:
        profile = (await s.exec(select(MemberProfileRow).where(MemberProfileRow.member_id == member_id))).first()
    return profile is not None and profile.tier == "vip" and profile.manager_id == MANAGER


async def _view(p: Platform, member_id: str) -> dict:
    r = await p.gateway.get(f"/api/v1/customers/{member_id}/360", headers=p.env.auth(Role.SERVICE_DESK, store_id="S001"))
    assert r.status_code == 200, r.text
    return r.json()


async def test_vip_complaint_goes_to_the_manager_and_its_points_reach_the_360_view(env: TestEnv, database_factory) -> None:
    async with platform(env, database_factory) as p:
        assert p.feedback is not None
        member = await _vip_with_manager(p)
        member_id = member["id"]
        await eventually(lambda: _feedback_knows_the_manager(p, member_id), timeout=60,
                         what="feedback learns the VIP tier and account manager from members' events")

        async def sales_credited() -> int | None:
            view = await _view(p, member_id)
            return view["points"]["balance"] if len(view["points"]["entries"]) >= 2 else None

        before = await eventually(sales_credited, timeout=60, what="points for both sales")

        customer = _as(p, Role.MEMBER, f"app-{member_id}", member_id=member_id)
        r = await p.feedback.post("/v1/complaints", json={
            "store_id": "S001", "category": "product_quality", "severity": "high", "description": "电饭锅不通电"}, headers=keyed(customer))
        assert r.status_code == 201, r.text
        complaint = r.json()
        assert complaint["assignee"] == MANAGER

        manager = _as(p, Role.ACCOUNT_MANAGER, MANAGER)
        queue = (await p.feedback.get("/v1/complaints/queue", headers=manager)).json()
        assert [c["id"] for c in queue] == [complaint["id"]]
        assert (await p.feedback.get("/v1/complaints/queue", headers=_as(p, Role.SERVICE_DESK, "desk-li", store_id="S001"))).json() == []

        r = await p.feedback.post(f"/v1/complaints/{complaint['id']}/acknowledge", headers=manager)
        assert r.status_code == 200, r.text
        r = await p.feedback.post(f"/v1/complaints/{complaint['id']}/resolve",
                                  json={"note": "上门更换并致歉", "compensation": {"points": 300}}, headers=manager)
        assert r.status_code == 200, r.text

        async def compensated() -> dict | None:
            view = await _view(p, member_id)
            return view if view["points"]["balance"] == before + 300 else None

        view = await eventually(compensated, timeout=60, what="compensation points booked by points")
        [entry] = [e for e in view["points"]["entries"] if e["source_ref"] == f"complaint:{complaint['id']}"]
        assert entry["points"] == 300
        [summary] = view["complaints"]
        assert (summary["id"], summary["status"], summary["compensation_points"]) == (complaint["id"], "resolved", 300)
        assert view["unavailable"] == []

        # The resolution delivered again, under its own id and under a new one: still booked once.
        async with p.apps["feedback"].state.sessions() as s:
            [row] = (await s.exec(select(OutboxRecord).where(OutboxRecord.event_type == COMPLAINT_RESOLVED))).all()
        original = Envelope.model_validate_json(row.envelope)
        consumer = p.apps["points"].state.consumer
        await consumer.apply_batch([consumer.delivery(original), consumer.delivery(original.model_copy(update={"id": str(uuid.uuid4())}))])
        assert (await _view(p, member_id))["points"]["balance"] == before + 300
