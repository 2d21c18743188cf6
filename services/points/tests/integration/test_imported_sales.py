"""Sales of a chain's past, imported by `crm import-sales`: with `--points none` they earn nothing,
with `rule-at-time` what the rule in force at their own time gives; their points expire by the
expiry rules like any others (years-old points are expired by the next run of the job)."""

from datetime import UTC, datetime, timedelta

import pytest

from points.jobs import expire_points
from shared.auth import Role
from shared.events.envelope import Envelope

pytestmark = pytest.mark.integration

IN_2019 = datetime(2019, 3, 1, 2, 15, tzinfo=UTC)


def imported(sale: Envelope, *, earns_points: bool) -> Envelope:
    sale.data.update(imported=True, earns_points=earns_points)
    return sale


async def test_an_import_without_points_books_the_sale_at_zero_and_its_return_takes_nothing(pts) -> None:
    sale = imported(pts.sale("i1", "100.00", at=IN_2019), earns_points=False)
    await pts.apply(pts.registered("i1"), sale)
    account = await pts.account("i1")
    assert account["balance"] == 0
    [entry] = account["entries"]
    assert (entry["entry_type"], entry["points"]) == ("earn", 0)
    assert entry["reason"].endswith("(imported without points)")
    await pts.apply(pts.ret(sale, "40.00", at=IN_2019 + timedelta(days=1)))
    assert await pts.balance("i1") == 0 == await pts.ledger_sum("i1")


async def test_an_import_with_points_earns_by_the_rule_of_the_sale_s_own_time(pts, env) -> None:
    switch = datetime.now(UTC)
    r = await pts.client.post("/v1/earning-rules", json={"effective_from": switch.isoformat(), "points_per_yuan": "2",
                                                          "reason": "double points from now"}, headers=env.auth(Role.ADMIN))
    assert r.status_code == 201, r.text
    past = imported(pts.sale("i2", "100.00", at=IN_2019), earns_points=True)
    live = pts.sale("i2", "100.00", at=switch + timedelta(seconds=1))
    await pts.apply(pts.registered("i2"), past, live)
    entries = {e["reason"].split()[1]: e["points"] for e in (await pts.account("i2"))["entries"]}
    past_ref, live_ref = (f"{e.data['store_id']}/{e.data['pos_txn_id']}" for e in (past, live))
    assert entries == {past_ref: 100, live_ref: 200}


async def test_a_sale_imported_with_only_its_total_earns_on_the_total(pts) -> None:
    sale = imported(pts.sale("i3", "88.80", at=IN_2019), earns_points=True)
    sale.data["lines"] = []
    await pts.apply(pts.registered("i3"), sale)
    assert await pts.balance("i3") == 88


@pytest.mark.parametrize("lines", [True, False])
async def test_a_sale_imported_with_its_discount_earns_on_what_was_paid(pts, lines: bool) -> None:
    sale = imported(pts.sale("i5", "100.00", at=IN_2019), earns_points=True)
    sale.data["discount"] = "20.50"
    if not lines:
        sale.data["lines"] = []
    await pts.apply(pts.registered("i5"), sale)
    assert await pts.balance("i5") == 79


async def test_points_of_years_ago_are_expired_by_the_next_run_of_the_job(pts) -> None:
    await pts.apply(pts.registered("i4"), imported(pts.sale("i4", "300.00", at=IN_2019), earns_points=True),
                    pts.sale("i4", "50.00", at=datetime(2026, 11, 20, tzinfo=UTC)))
    assert await pts.balance("i4") == 350
    result = await expire_points(pts.app.state.commands, pts.app.state.settings, datetime(2026, 12, 1, 4, tzinfo=UTC))
    assert result["points_expired"] == 300
    assert await pts.balance("i4") == 50 == await pts.ledger_sum("i4")


async def test_a_milestone_reached_by_imported_sales_grants_no_bonus_and_a_live_one_still_does(pts) -> None:
    past = pts.milestone("i5", "30000.00")
    past.data["imported"] = True
    await pts.apply(pts.registered("i5"), past)
    r = await pts.client.get("/v1/entitlements/i5", headers=pts.desk())
    assert r.status_code == 200, r.text
    assert r.json() == []
    assert [e for e in await pts.outbox("crm.points.entitlement_granted.v1") if e["member_id"] == "i5"] == []
    # The next milestone, reached by a till's sale, is a live one: the bonus follows as always.
    await pts.apply(pts.milestone("i5", "50000.00"))
    [kind] = (await pts.client.get("/v1/entitlements/i5", headers=pts.desk())).json()
    assert kind["granted"] == 2
    granted = [e for e in await pts.outbox("crm.points.entitlement_granted.v1") if e["member_id"] == "i5"]
    assert [(e["granted_total"], e["source_ref"]) for e in granted] == [(2, "milestone:50000.00")]
