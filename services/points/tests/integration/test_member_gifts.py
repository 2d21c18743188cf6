"""A member's own gifts in the app: the catalogue at their channel with their home store's stock,
reserving and cancelling their own gifts, and when their points expire; nobody else's."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.auth import Role

pytestmark = pytest.mark.integration


def member(env, member_id: str, key: str | None = None) -> dict[str, str]:
    headers = env.auth(Role.MEMBER, member_id=member_id)
    return {**headers, "Idempotency-Key": key} if key else headers


async def test_the_catalogue_shows_the_members_channel_price_and_home_store_stock(pts, env) -> None:
    await pts.apply(pts.registered("m1", channel="partner", home_store_id="S002"), pts.sale("m1", "100.00"))
    await pts.stock("rice-cooker", "S002", 3)
    await pts.stock("rice-cooker", "S001", 9)
    r = await pts.client.get("/v1/members/m1/gifts", headers=member(env, "m1"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["channel"], body["home_store_id"]) == ("partner", "S002")
    gifts = {g["gift_id"]: g for g in body["gifts"]}
    assert (gifts["rice-cooker"]["points"], gifts["rice-cooker"]["stock_at_home_store"]) == (20_000, 3)
    assert gifts["cushion"]["stock_at_home_store"] == 0
    other = await pts.client.get("/v1/members/m1/gifts", headers=member(env, "m2"))
    assert other.status_code == 403


async def test_a_desk_of_another_store_sees_the_customers_catalogue_without_their_home_stores_stock(pts, env) -> None:
    # S001's desk serves a walk-in customer of S002 (its scope is every customer), but its token is
    # bound to S001: S002's stock is no more its to read here than at /v1/gifts/stock?store_id=S002.
    await pts.apply(pts.registered("m3", home_store_id="S002"), pts.sale("m3", "100.00"))
    await pts.stock("rice-cooker", "S002", 3)
    away = (await pts.client.get("/v1/members/m3/gifts", headers=pts.desk("S001"))).json()
    assert {g["stock_at_home_store"] for g in away["gifts"]} == {None}
    home = (await pts.client.get("/v1/members/m3/gifts", headers=pts.desk("S002"))).json()
    assert {g["gift_id"]: g["stock_at_home_store"] for g in home["gifts"]}["rice-cooker"] == 3
    admin = (await pts.client.get("/v1/members/m3/gifts", headers=env.auth(Role.ADMIN))).json()
    assert {g["gift_id"]: g["stock_at_home_store"] for g in admin["gifts"]}["rice-cooker"] == 3


async def test_a_member_staff_moved_sees_the_new_channel_s_prices_and_the_new_store_s_stock(pts, env) -> None:
    await pts.apply(pts.registered("m10", channel="retail", home_store_id="S001"), pts.sale("m10", "100.00"))
    await pts.stock("rice-cooker", "S002", 4)
    await pts.apply(pts.profile_changed("m10", channel="partner", home_store_id="S002"))
    body = (await pts.client.get("/v1/members/m10/gifts", headers=member(env, "m10"))).json()
    assert (body["channel"], body["home_store_id"]) == ("partner", "S002")
    gifts = {g["gift_id"]: g for g in body["gifts"]}
    assert (gifts["rice-cooker"]["points"], gifts["rice-cooker"]["stock_at_home_store"]) == (20_000, 4)
    # The store's staff serve them now, the old store's no longer (the policy's store scope).
    assert (await pts.client.get("/v1/accounts/m10", headers=env.auth(Role.STORE_MANAGER, store_id="S002"))).status_code == 200
    assert (await pts.client.get("/v1/accounts/m10", headers=env.auth(Role.STORE_MANAGER, store_id="S001"))).status_code == 403


async def test_a_newcomer_without_an_account_sees_the_catalogue_at_the_channel_they_are_told_of(pts, env) -> None:
    # Just signed up: `member_registered` has not reached points, so the caller (the gateway) says
    # what members has for them. Once the account exists, points' own facts win.
    await pts.stock("rice-cooker", "S002", 3)
    assert (await pts.client.get("/v1/members/m9/gifts", headers=member(env, "m9"))).status_code == 404
    told = {"channel": "partner", "home_store_id": "S002"}
    r = await pts.client.get("/v1/members/m9/gifts", params=told, headers=member(env, "m9"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["channel"], body["home_store_id"]) == ("partner", "S002")
    gifts = {g["gift_id"]: g for g in body["gifts"]}
    assert (gifts["rice-cooker"]["points"], gifts["rice-cooker"]["stock_at_home_store"]) == (20_000, 3)
    await pts.apply(pts.registered("m9", channel="retail", home_store_id="S001"))
    known = (await pts.client.get("/v1/members/m9/gifts", params=told, headers=member(env, "m9"))).json()
    assert (known["channel"], known["home_store_id"]) == ("retail", "S001")
    assert (await pts.client.get("/v1/members/m9/gifts", params={"channel": "vip"}, headers=member(env, "m9"))).status_code == 422


async def test_a_member_reserves_at_their_home_store_retries_safely_and_cancels_their_own(pts, env) -> None:
    await pts.apply(pts.registered("m3"), pts.sale("m3", "30000.00"))
    await pts.stock("cushion", "S001", 2)
    first = await pts.client.post("/v1/members/m3/redemptions", json={"gift_id": "cushion"}, headers=member(env, "m3", "app-key-0001"))
    again = await pts.client.post("/v1/members/m3/redemptions", json={"gift_id": "cushion"}, headers=member(env, "m3", "app-key-0001"))
    assert (first.status_code, again.status_code) == (201, 200), first.text
    entry = first.json()
    assert again.json() == entry
    assert (entry["store_id"], entry["status"], entry["points"], entry["staff_id"]) == ("S001", "reserved", 10_000, "member-app")
    assert await pts.balance("m3") == 20_000
    # The home store moved, then cleared, since: the retry is still the reservation the member made.
    for home in ("S002", None):
        await pts.apply(pts.profile_changed("m3", home_store_id=home))
        retried = await pts.client.post("/v1/members/m3/redemptions", json={"gift_id": "cushion"},
                                        headers=member(env, "m3", "app-key-0001"))
        assert (retried.status_code, retried.json()) == (200, entry), retried.text
    await pts.apply(pts.profile_changed("m3", home_store_id="S001"))
    assert await pts.balance("m3") == 20_000

    listed = await pts.client.get("/v1/members/m3/redemptions", headers=member(env, "m3"))
    assert [e["redemption_id"] for e in listed.json()] == [entry["redemption_id"]]
    for state, found in (("reserved", [entry["redemption_id"]]), ("handed_over", [])):
        only = await pts.client.get("/v1/members/m3/redemptions", params={"status": state}, headers=member(env, "m3"))
        assert [e["redemption_id"] for e in only.json()] == found
    assert (await pts.client.get("/v1/members/m3/redemptions", params={"status": "lost"}, headers=member(env, "m3"))).status_code == 422

    # Another member can neither list nor cancel it; even naming it in their own path finds nothing.
    await pts.apply(pts.registered("m4"))
    assert (await pts.client.get("/v1/members/m3/redemptions", headers=member(env, "m4"))).status_code == 403
    foreign = await pts.client.post(f"/v1/members/m4/redemptions/{entry['redemption_id']}/cancel", headers=member(env, "m4"))
    assert foreign.status_code == 404
    # Staff hand gifts over at the desk; a member token may not reserve for them either.
    desk = await pts.client.post("/v1/members/m3/redemptions", json={"gift_id": "cushion"},
                                 headers={**pts.desk(), "Idempotency-Key": "desk-key-0009"})
    assert desk.status_code == 403

    cancelled = await pts.client.post(f"/v1/members/m3/redemptions/{entry['redemption_id']}/cancel", headers=member(env, "m3"))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert await pts.balance("m3") == 30_000
    stock = (await pts.client.get("/v1/gifts/cushion/stock", headers=pts.desk())).json()
    assert stock[0]["quantity"] == 2


async def _reserve(pts, env, member_id: str, count: int, key: str) -> list[str]:
    ids = []
    for n in range(count):
        r = await pts.client.post(f"/v1/members/{member_id}/redemptions", json={"gift_id": "cushion"},
                                  headers=member(env, member_id, f"{key}-{n:04d}"))
        assert r.status_code == 201, r.text
        ids.append(r.json()["redemption_id"])
    return ids


async def _listed(pts, env, member_id: str, **params) -> list[str]:
    r = await pts.client.get(f"/v1/members/{member_id}/redemptions", params=params, headers=member(env, member_id))
    assert r.status_code == 200, r.text
    return [e["redemption_id"] for e in r.json()]


async def test_paging_after_the_last_entry_seen_neither_repeats_nor_skips_one_when_a_reservation_comes_in_between(pts, env) -> None:
    await pts.apply(pts.registered("m11"), pts.sale("m11", "70000.00"))
    await pts.stock("cushion", "S001", 10)
    made = await _reserve(pts, env, "m11", 5, "scroll")
    everything = await _listed(pts, env, "m11")
    assert sorted(everything) == sorted(made)
    first = await _listed(pts, env, "m11", limit=2)
    assert first == everything[:2]
    # The member reserves another gift while looking at the first page: it goes to the top.
    [newest] = await _reserve(pts, env, "m11", 1, "meanwhile")
    assert (await _listed(pts, env, "m11"))[0] == newest
    # By offset, the next page would show the first page's last entry again; after it, it does not.
    assert (await _listed(pts, env, "m11", limit=2, offset=2))[0] == first[-1]
    second = await _listed(pts, env, "m11", limit=2, before_id=first[-1])
    assert second == everything[2:4]
    third = await _listed(pts, env, "m11", limit=2, before_id=second[-1])
    assert third == everything[4:]
    assert await _listed(pts, env, "m11", limit=2, before_id=third[-1]) == []
    assert first + second + third == everything
    # `offset` counts from the entry named.
    assert await _listed(pts, env, "m11", limit=2, before_id=first[-1], offset=1) == everything[3:5]
    # The entry named only gives the position: cancelled since, the reserved ones after it are listed all the same.
    cancelled = await pts.client.post(f"/v1/members/m11/redemptions/{everything[2]}/cancel", headers=member(env, "m11"))
    assert cancelled.status_code == 200, cancelled.text
    assert await _listed(pts, env, "m11", status="reserved", before_id=everything[2]) == everything[3:]
    assert await _listed(pts, env, "m11", status="cancelled", before_id=everything[1]) == [everything[2]]
    assert await _listed(pts, env, "m11", status="cancelled", before_id=everything[2]) == []


async def test_entries_of_one_instant_are_paged_by_id_across_a_page_boundary(clocked, env) -> None:
    pts, clock = clocked
    await pts.apply(pts.registered("m12"), pts.sale("m12", "60000.00"))
    await pts.stock("cushion", "S001", 10)
    [older] = await _reserve(pts, env, "m12", 1, "earlier")
    clock.now += timedelta(minutes=1)
    together = await _reserve(pts, env, "m12", 4, "together")  # all at one instant
    everything = await _listed(pts, env, "m12")
    assert everything == [*sorted(together), older]
    for size in (1, 2, 3):
        pages, last = [], None
        while page := await _listed(pts, env, "m12", limit=size, **({"before_id": last} if last else {})):
            assert len(pages) <= len(everything), "paging never ends"
            pages.append(page)
            last = page[-1]
        assert [e for p in pages for e in p] == everything, size


async def test_paging_after_an_entry_not_the_members_own_is_422_naming_before_id(pts, env) -> None:
    await pts.apply(pts.registered("m13"), pts.sale("m13", "20000.00"), pts.registered("m14"), pts.sale("m14", "20000.00"))
    await pts.stock("cushion", "S001", 5)
    [mine] = await _reserve(pts, env, "m13", 1, "own")
    [theirs] = await _reserve(pts, env, "m14", 1, "own")
    assert await _listed(pts, env, "m13", before_id=mine) == []
    for other in (theirs, "no-such-entry"):
        r = await pts.client.get("/v1/members/m13/redemptions", params={"before_id": other}, headers=member(env, "m13"))
        assert r.status_code == 422, r.text
        # Another member's entry is refused as an unknown one: this member learns nothing of it.
        assert r.json()["detail"] == f"before_id: no gift reservation {other} of this member to list after"
    for bad in ("", "x" * 37):
        r = await pts.client.get("/v1/members/m13/redemptions", params={"before_id": bad}, headers=member(env, "m13"))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "before_id"], r.text


async def test_a_key_is_the_members_own_two_members_choosing_one_key_reserve_a_gift_each(pts, env) -> None:
    await pts.apply(pts.registered("m7"), pts.sale("m7", "30000.00"), pts.registered("m8"), pts.sale("m8", "30000.00"))
    await pts.stock("cushion", "S001", 5)
    mine = await pts.client.post("/v1/members/m7/redemptions", json={"gift_id": "cushion"}, headers=member(env, "m7", "reserve-cushion"))
    theirs = await pts.client.post("/v1/members/m8/redemptions", json={"gift_id": "cushion"}, headers=member(env, "m8", "reserve-cushion"))
    assert (mine.status_code, theirs.status_code) == (201, 201), theirs.text
    assert mine.json()["redemption_id"] != theirs.json()["redemption_id"]
    assert (await pts.balance("m7"), await pts.balance("m8")) == (20_000, 20_000)
    # Within one member the key still holds: the same key for another gift is refused.
    other = await pts.client.post("/v1/members/m8/redemptions", json={"gift_id": "electric-kettle"}, headers=member(env, "m8", "reserve-cushion"))
    assert other.status_code == 409 and "different" in other.json()["detail"]


async def test_reserving_needs_a_key_enough_points_and_a_known_home_store(pts, env) -> None:
    await pts.apply(pts.registered("m5"), pts.sale("m5", "50.00"))
    await pts.stock("cushion", "S001", 1)
    no_key = await pts.client.post("/v1/members/m5/redemptions", json={"gift_id": "cushion"}, headers=member(env, "m5"))
    assert no_key.status_code == 422 and "Idempotency-Key" in no_key.text
    poor = await pts.client.post("/v1/members/m5/redemptions", json={"gift_id": "cushion"}, headers=member(env, "m5", "app-key-0002"))
    assert poor.status_code == 409 and "below the price" in poor.json()["detail"]
    await pts.apply(pts.registered("m6", home_store_id=None), pts.sale("m6", "20000.00"))
    homeless = await pts.client.post("/v1/members/m6/redemptions", json={"gift_id": "cushion"}, headers=member(env, "m6", "app-key-0003"))
    assert homeless.status_code == 409 and "home store" in homeless.json()["detail"]
    # Signed up a moment ago, their registration not read yet: not sent to a desk for a home store.
    newcomer = await pts.client.post("/v1/members/m7/redemptions", json={"gift_id": "cushion"}, headers=member(env, "m7", "app-key-0004"))
    assert newcomer.status_code == 409 and newcomer.json()["detail"] == "the membership is still being set up: try again in a moment"


async def test_expiring_points_are_grouped_by_their_last_valid_day(pts, env) -> None:
    await pts.apply(pts.registered("m7"), pts.sale("m7", "120.00"))
    r = await pts.client.get("/v1/members/m7/expiring", headers=member(env, "m7"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["balance"] == 120
    [lot] = body["expiring"]
    assert lot["points"] == 120 and lot["expires_on"].endswith("-12-31")
    assert (await pts.client.get("/v1/members/nobody/expiring", headers=member(env, "nobody"))).status_code == 404


async def test_points_past_their_expiry_date_cannot_buy_a_gift_before_the_job_takes_them(pts, env) -> None:
    # A till's late sale from 2024: its points were valid until 2025-12-31, and the job (every few
    # hours) has not run since the sale came in.
    await pts.apply(pts.registered("m8"), pts.sale("m8", "20000.00", at=datetime(2024, 5, 1, 2, tzinfo=UTC)),
                    pts.sale("m8", "5000.00"))
    await pts.stock("cushion", "S001", 1)
    assert await pts.balance("m8") == 25_000
    # Not shown among the days to come: last year's 31 December read as the member's next expiry.
    shown = (await pts.client.get("/v1/members/m8/expiring", headers=member(env, "m8"))).json()
    assert (shown["past_date"], [lot["points"] for lot in shown["expiring"]]) == (20_000, [5_000])
    assert shown["expiring"][0]["expires_on"] >= datetime.now(UTC).date().isoformat()
    refused = await pts.client.post("/v1/members/m8/redemptions", json={"gift_id": "cushion"}, headers=member(env, "m8", "app-key-0008"))
    assert refused.status_code == 409
    assert refused.json()["detail"] == ("20000 of the balance 25000 are past their expiry date; "
                                        "the 5000 still valid are below the price of 10000 points")
    # With enough valid points the gift is bought from them, and the overdue ones are still the
    # job's to take: spending never turns points past their date into valid ones.
    await pts.apply(pts.sale("m8", "5000.00"))
    bought = await pts.client.post("/v1/members/m8/redemptions", json={"gift_id": "cushion"}, headers=member(env, "m8", "app-key-0009"))
    assert bought.status_code == 201, bought.text
    expired = await pts.client.post("/v1/jobs/points-expiry/run", headers=env.auth(Role.ADMIN))
    assert expired.status_code == 200 and expired.json()["points_expired"] == 20_000, expired.text
    assert await pts.balance("m8") == 0


async def test_reserving_and_cancelling_a_gift_leaves_the_points_expiry_dates_as_they_were(pts, env) -> None:
    await pts.apply(pts.registered("m9"), pts.sale("m9", "12000.00", at=datetime(2025, 6, 1, 2, tzinfo=UTC)),
                    pts.sale("m9", "500.00"))
    await pts.stock("cushion", "S001", 1)
    before = (await pts.client.get("/v1/members/m9/expiring", headers=member(env, "m9"))).json()["expiring"]
    assert before == [{"expires_on": "2026-12-31", "points": 12000}, {"expires_on": "2027-12-31", "points": 500}]
    reserved = await pts.client.post("/v1/members/m9/redemptions", json={"gift_id": "cushion"}, headers=member(env, "m9", "app-key-0009"))
    assert reserved.status_code == 201, reserved.text
    cancelled = await pts.client.post(f"/v1/members/m9/redemptions/{reserved.json()['redemption_id']}/cancel",
                                      headers=member(env, "m9"))
    assert cancelled.status_code == 200, cancelled.text
    # Not 12,000 points valid until 2027 for a reservation made and cancelled a minute apart.
    after = (await pts.client.get("/v1/members/m9/expiring", headers=member(env, "m9"))).json()["expiring"]
    assert after == before


async def test_a_replaced_card_finds_the_account_at_the_till_and_the_lost_one_does_not(pts, env) -> None:
    await pts.apply(pts.registered("m11", channel="partner", card_no="8800000044444", home_store_id="S001"))
    await pts.apply(pts.profile_changed("m11", channel="partner", card_no="8800000077772"))
    pos = env.auth(Role.POS, store_id="S001")
    basket = {"store_id": "S001", "lines": [{"category": "grain", "amount": "20.00"}]}
    new = (await pts.client.post("/v1/earning/preview", json={**basket, "card_no": "8800000077772"}, headers=pos)).json()
    lost = (await pts.client.post("/v1/earning/preview", json={**basket, "card_no": "8800000044444"}, headers=pos)).json()
    assert (new["member_known"], new["channel"]) == (True, "partner")
    assert (lost["member_known"], lost["channel"]) == (False, "retail")

