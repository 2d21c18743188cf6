"""Campaigns' read model of customers, fed by members' events in any order and more than once,
and erasure. Against SQLite and PostgreSQL."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from campaigns.adapters.tables import (
    CustomerPurchaseCategoryRow,
    CustomerPurchaseRow,
    CustomerReturnRow,
    CustomerRow,
    MemberCardRow,
)
from shared.member_directory import member_facts
from tests.support.audience import (
    T0,
    attributes,
    consent,
    erased,
    personalisation,
    profile_changed,
    registered,
    ret,
    sale,
    tier_changed,
)

pytestmark = pytest.mark.integration
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def customer(cmp, member_id: str) -> CustomerRow:
    async with cmp.app.state.sessions() as s:
        row = await s.get(CustomerRow, member_id)
    assert row is not None
    return row


async def rows(cmp, table, member_id: str) -> list:
    async with cmp.app.state.sessions() as s:
        return list((await s.exec(select(table).where(table.member_id == member_id))).all())


async def test_registration_attributes_tier_and_consent_build_the_customer(cmp) -> None:
    await cmp.apply(registered("m1", home_store_id="S001", community_id="C1"))
    await cmp.apply(attributes("m1", as_of=T0 + timedelta(days=1), home_store_id="S002", community_id="C2",
                               value_class="key", churn_risk="high", recency=2, frequency=5, monetary=5,
                               days_since_last_purchase=40, birth_month=3))
    await cmp.apply(tier_changed("m1", "vip", at=T0 + timedelta(days=2)), consent("m1", "marketing_sms", True))
    await cmp.apply(consent("m1", "service_tips_sms", True))  # not marketing: no column learns it
    row = await customer(cmp, "m1")
    assert (row.home_store_id, row.community_id, row.channel) == ("S002", "C2", "retail")
    assert (row.tier, row.value_class, row.churn_risk, row.birth_month) == ("vip", "key", "high", 3)
    assert (row.recency, row.frequency, row.monetary, row.days_since_last_purchase) == (2, 5, 5, 40)
    assert row.consent_sms is True and row.consent_email is None
    # No purchase seen, but the attributes say 40 days ago: on the local day 40 days before theirs.
    as_of_day = (T0 + timedelta(days=1)).astimezone(SHANGHAI).date()
    assert row.last_purchase_at == datetime.combine(as_of_day - timedelta(days=40), time(), SHANGHAI)


async def test_a_member_staff_moved_is_selected_by_the_new_store_channel_and_community_at_once(cmp) -> None:
    await cmp.apply(registered("m1", home_store_id="S001", community_id="C1"), attributes("m1", value_class="key"))
    await cmp.apply(profile_changed("m1", at=T0 + timedelta(hours=1), channel="partner", home_store_id="S002", community_id="C7"))
    row = await customer(cmp, "m1")
    assert (row.home_store_id, row.community_id, row.channel, row.value_class) == ("S002", "C7", "partner", "key")
    assert await cmp.members_of({"field": "home_store", "op": "in", "value": ["S002"]}) == ["m1"]
    assert await cmp.members_of({"field": "home_store", "op": "in", "value": ["S001"]}) == []
    await cmp.apply(erased("m1"), profile_changed("m1", at=T0 + timedelta(hours=2), home_store_id="S003"))
    assert (await customer(cmp, "m1")).home_store_id is None  # erased for good: a late change revives nothing


async def test_attributes_read_before_a_staff_move_do_not_move_the_member_back(cmp) -> None:
    """The analytics read the member at 02:00, staff moved them at 02:05, the job published at
    02:10: segments and the member directory keep the store staff chose, while the scores apply."""
    night = T0 + timedelta(days=3)
    await cmp.apply(registered("m5", home_store_id="S001", community_id="C1"))
    await cmp.apply(profile_changed("m5", at=night + timedelta(minutes=5), channel="partner", home_store_id="S002",
                                    community_id="C7"))
    await cmp.apply(attributes("m5", as_of=night, home_store_id="S001", community_id="C1", value_class="key"))
    row = await customer(cmp, "m5")
    assert (row.home_store_id, row.community_id, row.channel, row.value_class) == ("S002", "C7", "partner", "key")
    assert await cmp.members_of({"field": "home_store", "op": "in", "value": ["S002"]}) == ["m5"]
    async with cmp.app.state.sessions() as s:
        assert (await member_facts(s, "m5")).home_store_id == "S002"
    await cmp.apply(attributes("m5", as_of=night + timedelta(days=1), channel="partner", home_store_id="S004",
                               community_id="C7"))
    assert (await customer(cmp, "m5")).home_store_id == "S004"  # the next night's, read after the move


async def test_events_in_any_order_end_with_the_latest_facts(cmp) -> None:
    newer, older = T0 + timedelta(days=10), T0 + timedelta(days=5)
    # The newest facts first, then stale ones, then the registration last of all.
    await cmp.apply(attributes("m2", as_of=newer, tier="vip", churn_risk="lost", community_id="C9"))
    await cmp.apply(attributes("m2", as_of=older, tier="member", churn_risk="low", community_id="C1"))
    await cmp.apply(tier_changed("m2", "member", at=older))
    await cmp.apply(consent("m2", "marketing_email", False, at=newer), consent("m2", "marketing_email", True, at=older))
    await cmp.apply(registered("m2", at=T0, community_id="C0"))
    row = await customer(cmp, "m2")
    assert (row.tier, row.churn_risk, row.community_id) == ("vip", "lost", "C9")
    assert row.consent_email is False and row.registered_at == T0
    # A later tier change does win over the attributes.
    await cmp.apply(tier_changed("m2", "member", at=newer + timedelta(hours=1)))
    assert (await customer(cmp, "m2")).tier == "member"


async def test_the_opt_out_of_personalised_offers_is_kept_newest_first_apart_from_consent(cmp) -> None:
    await cmp.apply(registered("m-p"), consent("m-p", "marketing_sms", True))
    assert (await customer(cmp, "m-p")).personalised is None  # never answered
    opted_out, back_in = T0 + timedelta(days=3), T0 + timedelta(days=1)
    # The opt-out arrives first; the older opt-in, delivered late, does not undo it.
    await cmp.apply(personalisation("m-p", False, at=opted_out))
    await cmp.apply(personalisation("m-p", True, at=back_in))
    row = await customer(cmp, "m-p")
    assert (row.personalised, row.personalised_at) == (False, opted_out)
    assert row.consent_sms is True  # marketing consent untouched
    await cmp.apply(personalisation("m-p", True, at=opted_out + timedelta(hours=1)))
    assert (await customer(cmp, "m-p")).personalised is True
    # Erasure forgets it, and a late opt-in cannot bring the customer back.
    await cmp.apply(erased("m-p", at=T0 + timedelta(days=5)))
    await cmp.apply(personalisation("m-p", True, at=T0 + timedelta(days=6)))
    row = await customer(cmp, "m-p")
    assert (row.personalised, row.personalised_at) == (None, None)


async def test_sales_and_returns_in_any_order_and_redelivered_count_once(cmp) -> None:
    await cmp.apply(registered("m3"))
    first = sale("m3", [("fresh", "80.00"), ("grain", "40.00")], at=T0 + timedelta(days=1), discount="20.00")
    second = sale("m3", [("grain", "30.00")], at=T0 + timedelta(days=3))
    refund = ret(second, [("grain", "30.00")], at=T0 + timedelta(days=4))
    # The return of the second sale arrives before the sale itself.
    await cmp.apply(first, refund)
    await cmp.apply(second)
    # Redelivered under the same ids: skipped by the consumer; a re-announced sale (new event id,
    # same sale) is skipped by its sale id.
    await cmp.apply(first, refund)
    again = first.model_copy(update={"id": "another-event-id"})
    await cmp.apply(again)

    row = await customer(cmp, "m3")
    assert row.lifetime_spend == Decimal("100.00")  # 120 - 20 discount; the second sale returned in full
    assert row.last_purchase_at == T0 + timedelta(days=1)  # a sale returned in full is no purchase
    purchases = {p.sale_event_id: p for p in await rows(cmp, CustomerPurchaseRow, "m3")}
    assert len(purchases) == 2
    assert purchases[second.data["sale_event_id"]].returned == Decimal("30.00")
    categories = {(c.sale_event_id, c.category): c for c in await rows(cmp, CustomerPurchaseCategoryRow, "m3")}
    assert categories[(second.data["sale_event_id"], "grain")].returned == Decimal("30.00")
    assert categories[(first.data["sale_event_id"], "fresh")].amount == Decimal("80.00")

    # A partial return of the first sale after it: spend goes down by the return's share of what
    # was paid (30 of 120 sold gives back 25 of the 100 paid, as members counts it), and the
    # purchase still counts.
    await cmp.apply(ret(first, [("fresh", "30.00")], at=T0 + timedelta(days=5)))
    row = await customer(cmp, "m3")
    assert row.lifetime_spend == Decimal("75.00") and row.last_purchase_at == T0 + timedelta(days=1)


async def test_erasure_removes_the_customer_for_good_and_keeps_only_amounts(cmp) -> None:
    await cmp.apply(registered("m4"), attributes("m4", birth_month=7, value_class="key"), consent("m4", "marketing_sms", True))
    s = sale("m4", [("fresh", "50.00")])
    await cmp.apply(s, ret(s, [("fresh", "10.00")]))
    await cmp.apply(erased("m4", at=T0 + timedelta(days=1)))
    # Late facts about the customer change nothing.
    await cmp.apply(attributes("m4", as_of=T0 + timedelta(days=2), value_class="key", birth_month=7),
                    consent("m4", "marketing_sms", True, at=T0 + timedelta(days=2)), registered("m4"))
    row = await customer(cmp, "m4")
    assert row.erased_at == T0 + timedelta(days=1)
    assert (row.birth_month, row.value_class, row.community_id, row.home_store_id, row.consent_sms) == (None,) * 5
    assert await rows(cmp, CustomerPurchaseCategoryRow, "m4") == []
    assert [r.by_category for r in await rows(cmp, CustomerReturnRow, "m4")] == [{}]
    # Spend and visits stay for campaign results that counted the customer.
    [purchase] = await rows(cmp, CustomerPurchaseRow, "m4")
    assert (purchase.total, purchase.returned) == (Decimal("50.00"), Decimal("10.00"))
    assert (await cmp.preview({"field": "value_class", "op": "in", "value": ["key"]}))["size"] == 0


def _customer_facts(prefix: str) -> tuple[list, list]:
    """Facts known before (attributes newer than the registration, an erasure) and a desk's run of
    registrations with their consents and choices, some stale, one member registered twice."""
    later = T0 + timedelta(days=3)
    before = [attributes(f"{prefix}2", as_of=later, home_store_id="S009", community_id="C9"),
              consent(f"{prefix}2", "marketing_sms", False, at=later), erased(f"{prefix}3")]
    run = [
        registered(f"{prefix}1", home_store_id="S001", community_id="C1"),
        consent(f"{prefix}1", "marketing_sms", True), personalisation(f"{prefix}1", False),
        registered(f"{prefix}2", home_store_id="S002", community_id="C2"),
        consent(f"{prefix}2", "marketing_sms", True),  # older than the refusal known: ignored
        consent(f"{prefix}2", "marketing_email", True),
        registered(f"{prefix}3"), consent(f"{prefix}3", "marketing_sms", True),  # erased: nothing comes back
        registered(f"{prefix}1", at=T0 + timedelta(days=1), channel="partner", home_store_id="S004"),
    ]
    return before, run


async def _read_model(cmp, prefix: str) -> dict[str, dict]:
    async with cmp.app.state.sessions() as s:
        rows = (await s.exec(select(CustomerRow).where(col(CustomerRow.member_id).startswith(prefix)))).all()
        cards = (await s.exec(select(MemberCardRow).where(col(MemberCardRow.member_id).startswith(prefix)))).all()
    model = {r.member_id[len(prefix):]: r.model_dump(exclude={"member_id"}) for r in rows}
    for card in cards:
        model[card.member_id[len(prefix):]].setdefault("cards", []).append(card.card_no)
    return model


async def test_a_run_of_registrations_and_consents_builds_what_one_by_one_builds(cmp) -> None:
    before, run = _customer_facts("run-")
    await cmp.apply(*before)
    await cmp.apply(*run)
    before, singles = _customer_facts("one-")
    await cmp.apply(*before)
    for envelope in singles:
        await cmp.apply(envelope)
    batched = await _read_model(cmp, "run-")
    assert (batched["1"]["channel"], batched["1"]["home_store_id"], batched["1"]["consent_sms"], batched["1"]["personalised"]) \
        == ("partner", "S004", True, False)
    assert (batched["2"]["home_store_id"], batched["2"]["consent_sms"], batched["2"]["consent_email"]) == ("S009", False, True)
    assert batched["3"]["registered_at"] is None and batched["3"]["consent_sms"] is None
    assert len(batched["1"]["cards"]) == 2  # each registration's card leads to the member
    one_by_one = await _read_model(cmp, "one-")
    assert len(one_by_one["1"]["cards"]) == 2
    for model in (batched, one_by_one):  # cards are drawn anew for each member: compared by number above
        for customer in model.values():
            customer.pop("cards", None)
    assert one_by_one == batched
    await cmp.apply(*run)  # redelivered: nothing changes
    assert {m: {k: v for k, v in c.items() if k != "cards"} for m, c in (await _read_model(cmp, "run-")).items()} == batched
