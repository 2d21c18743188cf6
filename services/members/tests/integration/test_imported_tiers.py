"""What a chain's past sales loaded by the import (`POST /v1/sales/import`) do to tiers and
milestones: the state follows the history, the events say `imported`, and no VIP welcome is asked
for, at the import or later when a manager comes; a till's sale still welcomes its new VIP."""

import json
from decimal import Decimal

import pytest
from sqlmodel import select

from members.adapters.tables import MemberRow
from members.adapters.tables.staff import MilestoneRow
from shared.auth import Role
from shared.events import contracts as c
from tests.support.factories import spend_line, staff_body
from tests.support.members import deliver_sale, outbox, register

pytestmark = pytest.mark.integration

TIER_CHANGED = "crm.members.tier_changed.v1"
MILESTONE = "crm.members.spend_milestone_reached.v1"
NOTIFICATION = "crm.members.notification_requested.v1"
ASSIGNED = "crm.members.account_manager_assigned.v1"


def admin(env) -> dict[str, str]:
    return env.auth(Role.ADMIN)


def payloads(rows, model) -> list:
    return [model.model_validate(json.loads(r.envelope)["data"]) for r in rows]


async def import_sales(members, env, card_no: str, *amounts: str, points: str = "none") -> None:
    sales = [
        {"store_id": "S001", "pos_txn_id": f"H-{card_no}-{i}", "occurred_at": f"2019-0{i + 1}-01T10:00:00+08:00",
         "card_no": card_no, "lines": [spend_line(amount)]}
        for i, amount in enumerate(amounts)
    ]
    r = await members.post("/v1/sales/import", json={"points": points, "sales": sales}, headers=admin(env))
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == len(amounts)


async def member_row(members, member_id: str) -> MemberRow:
    async with members.app.state.sessions() as s:
        return (await s.exec(select(MemberRow).where(MemberRow.id == member_id))).one()


async def add_manager(members, env, community_id: str) -> dict:
    r = await members.post("/v1/staff", json=staff_body(), headers=admin(env))
    assert r.status_code == 201, r.text
    manager = r.json()
    r = await members.put(f"/v1/staff/{manager['id']}/communities/{community_id}", headers=admin(env))
    assert r.status_code == 200, r.text
    return manager


async def test_an_import_that_crosses_the_vip_threshold_promotes_and_assigns_but_welcomes_nobody(members, env) -> None:
    past = await register(members, env, community="翠苑一区", home_store_id="S001")
    manager = await add_manager(members, env, past["community_id"])
    await import_sales(members, env, past["card_no"], "3000.00", "2500.00")
    row = await member_row(members, past["id"])
    assert (row.tier, row.tier_imported, row.lifetime_spend, row.manager_id) == ("vip", True, Decimal("5500.00"), manager["id"])
    [change] = payloads(await outbox(members, TIER_CHANGED), c.TierChangedV1)
    assert (change.member_id, change.new_tier, change.reason, change.imported) == (past["id"], "vip", "spend_threshold", True)
    [assigned] = payloads(await outbox(members, ASSIGNED), c.AccountManagerAssignedV1)
    assert (assigned.member_id, assigned.manager_id) == (past["id"], manager["id"])
    assert await outbox(members, NOTIFICATION) == []
    # A live sale of the imported VIP promotes nobody: still no welcome.
    await deliver_sale(members, card_no=past["card_no"], lines=[spend_line("100.00")])
    assert await outbox(members, NOTIFICATION) == []

    # A neighbour promoted by a till's sale is welcomed as always.
    live = await register(members, env, community="翠苑一区", home_store_id="S001")
    await deliver_sale(members, card_no=live["card_no"], lines=[spend_line("5000.00")])
    live_row = await member_row(members, live["id"])
    assert (live_row.tier, live_row.tier_imported) == ("vip", False)
    changes = payloads(await outbox(members, TIER_CHANGED), c.TierChangedV1)
    assert [(e.member_id, e.imported) for e in changes] == [(past["id"], True), (live["id"], False)]
    [sms] = payloads(await outbox(members, NOTIFICATION), c.NotificationRequestedV1)
    assert (sms.member_id, sms.template) == (live["id"], "vip_welcome")


async def test_an_imported_vip_nobody_covers_gets_a_manager_later_but_no_welcome(members, env) -> None:
    m = await register(members, env, community="无人小区", home_store_id="S001")
    await import_sales(members, env, m["card_no"], "6000.00", points="rule-at-time")
    assert (await member_row(members, m["id"])).manager_id is None
    manager = await add_manager(members, env, m["community_id"])
    assert (await member_row(members, m["id"])).manager_id == manager["id"]
    assigned = payloads(await outbox(members, ASSIGNED), c.AccountManagerAssignedV1)
    assert [a.manager_id for a in assigned] == [None, manager["id"]]
    assert await outbox(members, NOTIFICATION) == []


async def test_milestones_reached_by_an_import_are_recorded_and_announced_as_imported(members, env) -> None:
    m = await register(members, env)
    await import_sales(members, env, m["card_no"], "20000.00", "15000.00")
    async with members.app.state.sessions() as s:
        recorded = (await s.exec(select(MilestoneRow.milestone).where(MilestoneRow.member_id == m["id"]))).all()
    assert list(recorded) == [Decimal("30000.00")]
    [reached] = payloads(await outbox(members, MILESTONE), c.SpendMilestoneReachedV1)
    assert (reached.member_id, reached.milestone, reached.imported) == (m["id"], Decimal("30000.00"), True)
    # The next one, reached by a till's sale, is a live milestone.
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("20000.00")])
    reached_all = payloads(await outbox(members, MILESTONE), c.SpendMilestoneReachedV1)
    assert [(e.milestone, e.imported) for e in reached_all] == [(Decimal("30000.00"), True), (Decimal("50000.00"), False)]
