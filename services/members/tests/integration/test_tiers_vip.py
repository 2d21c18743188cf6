"""VIP promotion, spend milestones and the tier review, driven through sales as the POS sends them."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from members.adapters.tables import MemberRow
from members.adapters.tables.staff import MilestoneRow
from members.service_layer.tiers import run_tier_review
from shared.auth import Role
from shared.commands import derived_event_id
from shared.events import contracts as c
from tests.support.factories import spend_line, staff_body
from tests.support.members import deliver_refund, deliver_sale, outbox, register
from tests.support.platform import service

pytestmark = pytest.mark.integration


def admin(env) -> dict[str, str]:
    return env.auth(Role.ADMIN)


def payloads(rows, model) -> list:
    return [model.model_validate(json.loads(r.envelope)["data"]) for r in rows]


async def member_row(members, member_id: str) -> MemberRow:
    async with members.app.state.sessions() as s:
        return (await s.exec(select(MemberRow).where(MemberRow.id == member_id))).one()


async def add_manager(members, env, community_id: str, **fields) -> dict:
    r = await members.post("/v1/staff", json=staff_body(**fields), headers=admin(env))
    assert r.status_code == 201, r.text
    manager = r.json()
    r = await members.put(f"/v1/staff/{manager['id']}/communities/{community_id}", headers=admin(env))
    assert r.status_code == 200, r.text
    return manager


async def test_crossing_the_threshold_makes_a_member_vip_once_however_often_sales_arrive(members, env) -> None:
    m = await register(members, env)
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("3000.00")], event_id="evt-a")
    assert (await member_row(members, m["id"])).tier == "member"
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("2000.00")], event_id="evt-b", txn="T-b")
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("2000.00")], event_id="evt-b", txn="T-b")
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("800.00")])
    row = await member_row(members, m["id"])
    assert row.tier == "vip" and row.tier_since is not None and row.lifetime_spend == Decimal("5800.00")
    [change] = payloads(await outbox(members, "crm.members.tier_changed.v1"), c.TierChangedV1)
    assert (change.member_id, change.old_tier, change.new_tier, change.reason) == (m["id"], "member", "vip", "spend_threshold")
    assert change.lifetime_spend == Decimal("5000.00")


async def test_a_new_vip_gets_the_manager_of_their_community_and_a_welcome_sms(members, env) -> None:
    m = await register(members, env, community="翠苑一区", home_store_id="S001")
    manager = await add_manager(members, env, m["community_id"], name="陈静", work_phone="0571-88001234")
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("5000.00")])
    assert (await member_row(members, m["id"])).manager_id == manager["id"]
    [assigned] = payloads(await outbox(members, "crm.members.account_manager_assigned.v1"), c.AccountManagerAssignedV1)
    assert (assigned.manager_id, assigned.reason, assigned.community_id) == (manager["id"], "new_vip", m["community_id"])
    [sms_row] = await outbox(members, "crm.members.notification_requested.v1")
    [sms] = payloads([sms_row], c.NotificationRequestedV1)
    assert sms.template == "vip_welcome" and sms.member_id == m["id"] and sms.requires_consent is None
    assert sms.params == {"manager_id": manager["id"], "store_id": "S001"}
    # The customer's own name, phone and address never travel in the event.
    for personal in (m["name"], m["phone"], m["address"]):
        assert personal not in sms_row.envelope


async def test_the_welcome_names_the_customer_s_own_store_when_their_manager_works_at_another(members, env) -> None:
    # A manager of S002 covers the community of an S001 customer: the SMS said "恭喜您成为<S002>的VIP会员".
    m = await register(members, env, community="翠苑一区", home_store_id="S001")
    manager = await add_manager(members, env, m["community_id"], store_id="S002")
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("5000.00")])
    assert (await member_row(members, m["id"])).manager_id == manager["id"]
    [sms] = payloads(await outbox(members, "crm.members.notification_requested.v1"), c.NotificationRequestedV1)
    assert sms.params == {"manager_id": manager["id"], "store_id": "S001"}


async def test_the_welcome_names_the_manager_by_id_never_by_name_or_phone(members, env) -> None:
    # No personal data on the bus beyond ids (docs/events.md): the manager's name and work phone
    # (which may be their own mobile) stay in members; the sender looks them up.
    m = await register(members, env, community="翠苑一区", home_store_id="S001")
    manager = await add_manager(members, env, m["community_id"], name="陈静", work_phone="13900001234")
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("5000.00")])
    [sms_row] = await outbox(members, "crm.members.notification_requested.v1")
    [sms] = payloads([sms_row], c.NotificationRequestedV1)
    assert sms.params["manager_id"] == manager["id"]
    assert not {"manager_name", "manager_phone"} & set(sms.params)
    for personal in ("陈静", "13900001234"):
        assert personal not in sms_row.envelope


async def test_a_vip_whose_community_nobody_covers_waits_and_is_assigned_when_coverage_is_added(members, env) -> None:
    m = await register(members, env, community="无人小区", home_store_id="S001")
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("6000.00")])
    assert (await member_row(members, m["id"])).manager_id is None
    [waiting] = payloads(await outbox(members, "crm.members.account_manager_assigned.v1"), c.AccountManagerAssignedV1)
    assert waiting.manager_id is None and waiting.reason == "no_manager_for_community"
    assert await outbox(members, "crm.members.notification_requested.v1") == []
    store_manager = env.auth(Role.STORE_MANAGER, store_id="S001")
    listed = (await members.get("/v1/tracking/unassigned-vips", headers=store_manager)).json()
    assert [v["member_id"] for v in listed] == [m["id"]]

    manager = await add_manager(members, env, m["community_id"])
    assert (await member_row(members, m["id"])).manager_id == manager["id"]
    assert (await members.get("/v1/tracking/unassigned-vips", headers=store_manager)).json() == []
    [sms] = payloads(await outbox(members, "crm.members.notification_requested.v1"), c.NotificationRequestedV1)
    assert sms.params["manager_id"] == manager["id"]


async def waiting_vip(members, env) -> dict:
    """A VIP of a community nobody covers: promoted, unassigned, not yet welcomed."""
    m = await register(members, env, community="无人小区", home_store_id="S001")
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("6000.00")])
    assert (await member_row(members, m["id"])).manager_id is None
    assert await outbox(members, "crm.members.notification_requested.v1") == []
    return m


async def welcomes(members) -> list[c.NotificationRequestedV1]:
    return payloads(await outbox(members, "crm.members.notification_requested.v1"), c.NotificationRequestedV1)


async def test_a_waiting_vip_given_a_manager_by_hand_is_welcomed_once(members, env) -> None:
    m = await waiting_vip(members, env)
    first, second = [(await members.post("/v1/staff", json=staff_body(), headers=admin(env))).json() for _ in range(2)]
    for manager in (first, second):
        r = await members.put(f"/v1/members/{m['id']}/account-manager", json={"manager_id": manager["id"]}, headers=admin(env))
        assert r.status_code == 200, r.text
    assigned = payloads(await outbox(members, "crm.members.account_manager_assigned.v1"), c.AccountManagerAssignedV1)
    assert [(a.manager_id, a.reason) for a in assigned] == [
        (None, "no_manager_for_community"), (first["id"], "new_vip"), (second["id"], "reassigned"),
    ]
    # The welcome names the first manager; moving the VIP on later does not welcome them again.
    [sms] = await welcomes(members)
    assert sms.template == "vip_welcome" and sms.params["manager_id"] == first["id"]


async def test_a_waiting_vip_whose_community_is_merged_into_a_covered_one_gets_its_manager(members, env) -> None:
    m = await waiting_vip(members, env)
    neighbour = await register(members, env, community="翠苑一区")
    manager = await add_manager(members, env, neighbour["community_id"])
    r = await members.post(f"/v1/communities/{neighbour['community_id']}/merge",
                           json={"community_id": m["community_id"]}, headers=admin(env))
    assert r.status_code == 200, r.text
    assert (await member_row(members, m["id"])).manager_id == manager["id"]
    [sms] = await welcomes(members)
    assert (sms.member_id, sms.params["manager_id"]) == (m["id"], manager["id"])


async def test_a_waiting_vip_who_moves_into_a_covered_community_gets_its_manager(members, env) -> None:
    m = await waiting_vip(members, env)
    neighbour = await register(members, env, community="翠苑一区")
    manager = await add_manager(members, env, neighbour["community_id"])
    r = await members.patch(f"/v1/members/{m['id']}", json={"community": "翠苑一区", "address": "3幢2单元101"},
                            headers=admin(env))
    assert r.status_code == 200, r.text
    assert (await member_row(members, m["id"])).manager_id == manager["id"]
    [sms] = await welcomes(members)
    assert (sms.member_id, sms.params["manager_id"]) == (m["id"], manager["id"])


async def test_milestones_are_announced_once_each_under_a_derived_event_id(members, env) -> None:
    m = await register(members, env)
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("30000.00")], event_id="evt-30k")
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("30000.00")], event_id="evt-30k")
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("1000.00")])
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("19000.00")])
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("9000.00")])
    rows = sorted(await outbox(members, "crm.members.spend_milestone_reached.v1"), key=lambda r: r.id)
    reached = payloads(rows, c.SpendMilestoneReachedV1)
    assert [(e.milestone, e.lifetime_spend) for e in reached] == [
        (Decimal("30000.00"), Decimal("30000.00")), (Decimal("50000.00"), Decimal("50000.00")),
    ]
    assert [r.event_id for r in rows] == [
        derived_event_id("members", "milestone", m["id"], ms) for ms in ("30000.00", "50000.00")
    ]


async def test_one_large_sale_crosses_both_milestones_and_returns_withdraw_none(members, env) -> None:
    m = await register(members, env)
    txn = await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("52000.00")])
    await deliver_refund(members, txn=txn, lines=[spend_line("52000.00")])
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("52000.00")])
    reached = payloads(await outbox(members, "crm.members.spend_milestone_reached.v1"), c.SpendMilestoneReachedV1)
    assert sorted(e.milestone for e in reached) == [Decimal("30000.00"), Decimal("50000.00")]
    async with members.app.state.sessions() as s:
        kept = (await s.exec(select(MilestoneRow).where(MilestoneRow.member_id == m["id"]))).all()
    assert len(kept) == 2


async def test_a_lifetime_spend_beyond_what_one_sale_may_carry_is_announced(members, env) -> None:
    # One sale may carry up to 999,999,999,999.99; the sum of two may not fit the same type.
    m = await register(members, env)
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("100.00")])
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("999999999999.99")])
    assert (await member_row(members, m["id"])).lifetime_spend == Decimal("1000000000099.99")
    reached = payloads(await outbox(members, "crm.members.spend_milestone_reached.v1"), c.SpendMilestoneReachedV1)
    assert {e.lifetime_spend for e in reached} == {Decimal("1000000000099.99")}
    [change] = payloads(await outbox(members, "crm.members.tier_changed.v1"), c.TierChangedV1)
    assert change.lifetime_spend == Decimal("1000000000099.99")


async def test_sales_made_before_registration_promote_the_member_when_they_register(members, env) -> None:
    await deliver_sale(members, card_no="8800000055555", lines=[spend_line("5200.00")])
    m = await register(members, env, card_no="8800000055555")
    assert (await member_row(members, m["id"])).tier == "vip"
    [change] = payloads(await outbox(members, "crm.members.tier_changed.v1"), c.TierChangedV1)
    assert change.member_id == m["id"]


async def test_a_return_keeps_the_tier_until_the_review_which_demotes_once(members, env) -> None:
    dropping = await register(members, env)
    steady = await register(members, env)
    txn = await deliver_sale(members, card_no=dropping["card_no"], lines=[spend_line("4000.00"), spend_line("1500.00", sku="lamp")])
    await deliver_sale(members, card_no=steady["card_no"], lines=[spend_line("5000.00")])
    await deliver_refund(members, txn=txn, lines=[spend_line("1500.00", sku="lamp")])
    row = await member_row(members, dropping["id"])
    assert row.lifetime_spend == Decimal("4000.00") and row.tier == "vip"  # kept until the review

    # 2027-01-01 08:30 in Shanghai is the first review day of 2027 (00:30 UTC).
    review_day = datetime(2027, 1, 1, 0, 30, tzinfo=UTC)
    summary = await run_tier_review(members.app.state.commands, members.app.state.settings, review_day)
    assert summary == {"review_date": "2027-01-01", "held_now": True, "demoted": 1}
    assert await run_tier_review(members.app.state.commands, members.app.state.settings, review_day) == {"review_date": "2027-01-01", "held_now": False, "demoted": 0}
    assert (await member_row(members, dropping["id"])).tier == "member"
    assert (await member_row(members, steady["id"])).tier == "vip"
    changes = payloads(await outbox(members, "crm.members.tier_changed.v1"), c.TierChangedV1)
    [demotion] = [e for e in changes if e.reason == "review"]
    assert (demotion.member_id, demotion.old_tier, demotion.new_tier) == (dropping["id"], "vip", "member")


async def test_a_review_run_as_of_a_day_before_the_latest_review_changes_nothing(members, env) -> None:
    # The October review was held; a return then took a VIP below the threshold. A run by hand as of
    # July would hold a July review after October's, and demote them now rather than in January.
    commands, settings = members.app.state.commands, members.app.state.settings
    october = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
    assert (await run_tier_review(commands, settings, october))["held_now"] is True
    dropping = await register(members, env)
    txn = await deliver_sale(members, card_no=dropping["card_no"], lines=[spend_line("4000.00"), spend_line("1500.00", sku="lamp")])
    await deliver_refund(members, txn=txn, lines=[spend_line("1500.00", sku="lamp")])
    july = datetime(2026, 7, 15, 1, 0, tzinfo=UTC)
    assert await run_tier_review(commands, settings, july) == {"review_date": "2026-07-01", "held_now": False, "demoted": 0}
    assert (await member_row(members, dropping["id"])).tier == "vip"


async def test_the_review_job_can_be_run_by_an_admin_only(members, env) -> None:
    as_of = {"as_of": "2026-10-01T09:00:00+08:00"}
    r = await members.post("/v1/jobs/tier-review/run", params=as_of, headers=env.auth(Role.STORE_MANAGER, store_id="S001"))
    assert r.status_code == 403
    r = await members.post("/v1/jobs/tier-review/run", params=as_of, headers=admin(env))
    assert r.status_code == 200 and r.json() == {"review_date": "2026-10-01", "held_now": True, "demoted": 0}


async def test_the_vip_threshold_and_milestones_are_configurable(env, database_factory) -> None:
    from members.config import Settings
    from members.main import create_app

    settings = env.settings(Settings, await database_factory("members"), vip_threshold="1000.00", spend_milestones=["2000.00"])
    async with service(create_app(settings)) as members:
        m = await register(members, env)
        await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("2000.00")])
        assert (await member_row(members, m["id"])).tier == "vip"
        [reached] = payloads(await outbox(members, "crm.members.spend_milestone_reached.v1"), c.SpendMilestoneReachedV1)
        assert reached.milestone == Decimal("2000.00")
