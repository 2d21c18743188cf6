"""An erased member leaves no personal text behind in points, and their card is no longer known."""

import uuid

import pytest
from sqlmodel import select

from points.adapters.tables import RedemptionRow
from points.service_layer.erasure import ERASURE_STAFF_ID, REDACTED
from shared.auth import Role
from shared.events.registry import REWARD_REDEMPTION_CANCELLED
from tests.support.factories import keyed
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

CARD = "8800000012345"
PERSONAL = "王建国先生 13812345678"
BASKET = {"store_id": "S001", "lines": [{"category": "grain", "amount": "20.00"}]}


async def test_erasure_replaces_staff_written_text_and_forgets_the_card(pts, env) -> None:
    await pts.apply(pts.registered("er1", channel="partner", card_no=CARD, home_store_id="S001"), pts.sale("er1", "30000.00"))
    manager = {**env.auth(Role.STORE_MANAGER, store_id="S001"), "Idempotency-Key": uuid.uuid4().hex}
    bonus = await pts.client.post("/v1/accounts/er1/bonuses", json={"points": 500, "reason": f"电话回访 {PERSONAL}"}, headers=manager)
    assert bonus.status_code == 201, bonus.text
    await pts.stock("cushion", "S001", 1)
    redeemed = (await pts.redeem("er1", "cushion")).json()
    cancel = await pts.client.post(f"/v1/redemptions/{redeemed['redemption_id']}/cancel", json={"reason": f"{PERSONAL} 不要了"},
                                   headers=pts.desk())
    assert cancel.status_code == 200, cancel.text
    pos = env.auth(Role.POS, store_id="S001")
    known = (await pts.client.post("/v1/earning/preview", json={**BASKET, "card_no": CARD}, headers=pos)).json()
    assert (known["member_known"], known["channel"]) == (True, "partner")

    erasure = pts.erased("er1")
    await pts.apply(erasure)
    await pts.apply(erasure)  # redelivered: nothing changes twice

    ledger = (await pts.client.get("/v1/accounts/er1/ledger", headers=env.auth(Role.ADMIN))).json()["entries"]
    assert all("13812345678" not in e["reason"] and "王建国" not in e["reason"] for e in ledger)
    reasons = {e["entry_type"]: e["reason"] for e in ledger}
    assert reasons == {"bonus": REDACTED, "redeem": REDACTED, "cancel_redeem": REDACTED, "earn": reasons["earn"]}
    assert reasons["earn"].startswith("purchase S001/")  # the system's own text stays: no personal data in it
    assert sum(e["points"] for e in ledger) == 30_500  # the accounting record is untouched
    async with pts.app.state.sessions() as session:
        entry = (await session.exec(select(RedemptionRow).where(RedemptionRow.member_id == "er1"))).one()
    assert entry.cancel_reason == REDACTED
    unknown = (await pts.client.post("/v1/earning/preview", json={**BASKET, "card_no": CARD}, headers=pos)).json()
    assert (unknown["member_known"], unknown["channel"]) == (False, "retail")
    # Nor by the member id a till's phone is looked up as (the account stays, for the ledger).
    by_member = (await pts.client.post("/v1/earning/preview", json={**BASKET, "member_id": "er1"}, headers=pos)).json()
    assert (by_member["member_known"], by_member["channel"]) == (False, "retail")
    own = await pts.client.get("/v1/accounts/er1", headers=env.auth(Role.MEMBER, member_id="er1"))
    assert own.status_code == 401


@pytest.mark.parametrize("late", ["registered", "profile_changed"])
async def test_a_late_event_of_an_erased_member_does_not_bring_their_card_back(pts, env, late) -> None:
    # A registration dead-lettered before the erasure and replayed after it, or a card change
    # delivered late: the till must still not know the erased member's card.
    await pts.apply(pts.registered("er3", card_no=CARD), pts.erased("er3"))
    event = pts.registered("er3", card_no=CARD) if late == "registered" else pts.profile_changed("er3", card_no=CARD)
    await pts.apply(event)
    pos = env.auth(Role.POS, store_id="S001")
    preview = (await pts.client.post("/v1/earning/preview", json={**BASKET, "card_no": CARD}, headers=pos)).json()
    assert preview["member_known"] is False


async def test_nothing_new_is_recorded_about_an_erased_member(pts, env) -> None:
    """The erasure's scrub ran once, when the event came: what staff wrote after it would stay."""
    await pts.apply(pts.registered("er2", home_store_id="S001"), pts.sale("er2", "30000.00"), pts.milestone("er2", "30000.00"))
    await pts.stock("cushion", "S001", 2)
    await pts.apply(pts.erased("er2"))
    admin = env.auth(Role.ADMIN)

    for kind in ("bonuses", "adjustments"):
        r = await pts.client.post(f"/v1/accounts/er2/{kind}", json={"points": 5, "reason": f"回访 {PERSONAL}"}, headers=keyed(admin))
        assert r.status_code == 409 and r.json()["error"] == "MemberErased", r.text
        assert "member is erased" in r.json()["detail"]
    redeemed = await pts.redeem("er2", "cushion")
    assert redeemed.status_code == 409 and redeemed.json()["error"] == "MemberErased"
    visit = await pts.client.post("/v1/entitlements/er2/leftover_collection_visit/uses",
                                  json={"used_on": "2026-11-20", "store_id": "S001"}, headers=keyed(pts.desk()))
    assert visit.status_code == 409 and visit.json()["error"] == "MemberErased"
    job = await pts.client.post("/v1/bulk-bonuses", json={"member_ids": ["er2"], "points": 5, "reason": "双十一 bonus"},
                                headers={**admin, "Idempotency-Key": "bulk-after-erasure"})
    assert job.status_code == 202, job.text

    async def finished() -> dict | None:
        report = (await pts.client.get(f"/v1/bulk-bonuses/{job.json()['job_id']}", headers=admin)).json()
        return report if report["status"] == "done" else None

    report = await eventually(finished, timeout=20, what="bulk bonus finished")
    assert [(i["outcome"], i["detail"]) for i in report["items"]] == [("skipped", "member is erased")]


async def test_a_gift_reserved_before_the_erasure_is_cancelled_with_it_and_never_handed_over(pts, env) -> None:
    # Nobody can collect it any more (no card, no token, the desk serves the customer no more):
    # left reserved, its unit was held from every other customer for good, and points still took
    # a hand-over of it that no desk offered.
    await pts.apply(pts.registered("er4", home_store_id="S001"), pts.sale("er4", "30000.00"))
    await pts.stock("cushion", "S001", 2)
    reserved, collected = (await pts.redeem("er4", "cushion")).json(), (await pts.redeem("er4", "cushion")).json()
    desk, admin = pts.desk(), env.auth(Role.ADMIN)
    r = await pts.client.post(f"/v1/redemptions/{collected['redemption_id']}/hand-over", headers=desk)
    assert r.status_code == 200, r.text
    erasure = pts.erased("er4")
    await pts.apply(erasure)
    await pts.apply(erasure)  # redelivered: cancelled once

    entry = (await pts.client.get(f"/v1/redemptions/{reserved['redemption_id']}", headers=admin)).json()
    assert (entry["status"], entry["cancelled_by"], entry["cancel_reason"]) == ("cancelled", ERASURE_STAFF_ID, REDACTED)
    # Its unit is free to reserve again; the gift collected before the erasure stays handed over.
    stock = (await pts.client.get("/v1/gifts/cushion/stock", headers=admin)).json()
    assert [(s["quantity"], s["reserved"]) for s in stock if s["store_id"] == "S001"] == [(1, 0)]
    assert (await pts.client.get(f"/v1/redemptions/{collected['redemption_id']}", headers=admin)).json()["status"] == "handed_over"
    # Its points are back in the account (the liability's erased line), the note a placeholder.
    ledger = (await pts.client.get("/v1/accounts/er4/ledger", headers=admin)).json()["entries"]
    assert sorted(e["entry_type"] for e in ledger) == ["cancel_redeem", "earn", "redeem", "redeem"]
    assert sum(e["points"] for e in ledger) == 30_000 - collected["points"]
    assert all(e["reason"] == REDACTED for e in ledger if e["entry_type"] != "earn")
    assert [(e["redemption_id"], e["staff_id"]) for e in await pts.outbox(REWARD_REDEMPTION_CANCELLED)] == [
        (reserved["redemption_id"], ERASURE_STAFF_ID)]

    # Handed over by hand after the erasure: refused as everything else recorded about the member,
    # not as a cancelled entry.
    refused = await pts.client.post(f"/v1/redemptions/{reserved['redemption_id']}/hand-over", headers=desk)
    assert refused.status_code == 409 and refused.json()["error"] == "MemberErased", refused.text
    assert "member is erased" in refused.json()["detail"]
    # A retried hand-over of the gift collected before the erasure still answers it.
    again = await pts.client.post(f"/v1/redemptions/{collected['redemption_id']}/hand-over", headers=desk)
    assert again.status_code == 200 and again.json()["status"] == "handed_over"
    # So does a cancellation asked for after the erasure's: the entry is cancelled once.
    cancel = await pts.client.post(f"/v1/redemptions/{reserved['redemption_id']}/cancel", json={"reason": f"{PERSONAL} 不要了"},
                                   headers=desk)
    assert cancel.status_code == 200 and cancel.json()["cancel_reason"] == REDACTED
    assert await pts.ledger_sum("er4") == 30_000 - collected["points"]


@pytest.mark.parametrize("kind", ["bonuses", "adjustments"])
async def test_a_retry_of_an_entry_booked_before_the_erasure_answers_the_entry(pts, env, kind) -> None:
    """The erasure replaced the entry's reason: a retry under its key is still the same request
    (200 with the entry), not one 'for a different bonus'; another amount under it still is."""
    await pts.apply(pts.registered("er4", home_store_id="S001"), pts.sale("er4", "300.00"))
    admin = keyed(env.auth(Role.ADMIN))
    body = {"points": 5, "reason": f"回访 {PERSONAL}"}
    booked = await pts.client.post(f"/v1/accounts/er4/{kind}", json=body, headers=admin)
    assert booked.status_code == 201, booked.text
    await pts.apply(pts.erased("er4"))

    retry = await pts.client.post(f"/v1/accounts/er4/{kind}", json=body, headers=admin)
    assert retry.status_code == 200, retry.text
    assert (retry.json()["id"], retry.json()["reason"]) == (booked.json()["id"], REDACTED)
    other = await pts.client.post(f"/v1/accounts/er4/{kind}", json={**body, "points": 6}, headers=admin)
    assert other.status_code == 409 and other.json()["error"] == "IdempotencyConflict", other.text
