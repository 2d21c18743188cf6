"""Earning from attributed sales and the account API, on SQLite and PostgreSQL."""

import pytest

from shared.auth import Role

pytestmark = pytest.mark.integration


async def test_attributed_sale_earns_floor_of_total(pts) -> None:
    await pts.apply(pts.sale("m1", "218.80", txn="T1"))
    acc = await pts.account("m1")
    assert acc["balance"] == 218 and acc["redemptions_blocked"] is False
    [entry] = acc["entries"]
    assert entry["entry_type"] == "earn" and entry["reason"] == "purchase S001/T1" and entry["source_ref"] == "sale:S001/T1"
    assert entry["source_event_id"] == "sale-S001-T1"


async def test_redelivery_in_one_batch_and_across_batches_books_once(pts) -> None:
    event = pts.sale("m2", "100.00")
    await pts.apply(event, event)
    await pts.apply(event)
    assert await pts.balance("m2") == 100


async def test_same_sale_under_a_new_event_id_is_not_credited_twice(pts) -> None:
    await pts.apply(pts.sale("m3", "50.00", txn="T9"), pts.sale("m3", "50.00", txn="T9"))
    await pts.apply(pts.sale("m3", "50.00", txn="T9"))
    acc = await pts.account("m3")
    assert acc["balance"] == 50 and len(acc["entries"]) == 1


async def test_balance_equals_the_sum_of_the_ledger(pts) -> None:
    await pts.apply(*(pts.sale("m4", amount) for amount in ("10.99", "20.50", "0.99", "1000.00")))
    assert await pts.balance("m4") == await pts.ledger_sum("m4") == 10 + 20 + 0 + 1000


async def test_one_batch_books_many_members_each_on_their_own_balance(pts) -> None:
    events = [pts.sale(f"b{i % 7}", f"{i}.00") for i in range(1, 50)]
    await pts.apply(*events)
    for m in range(7):
        expected = sum(i for i in range(1, 50) if i % 7 == m)
        assert await pts.balance(f"b{m}") == await pts.ledger_sum(f"b{m}") == expected


async def test_member_registration_opens_the_account_with_its_channel(pts) -> None:
    await pts.apply(pts.registered("m5", channel="partner"))
    acc = await pts.account("m5")
    assert (acc["balance"], acc["channel"], acc["entries"]) == (0, "partner", [])


async def test_a_sale_before_registration_opens_the_account_and_registration_keeps_its_points(pts) -> None:
    await pts.apply(pts.sale("m8", "30.00"))
    await pts.apply(pts.registered("m8", channel="partner"))
    acc = await pts.account("m8")
    assert (acc["balance"], acc["channel"]) == (30, "partner")


async def test_members_read_only_their_own_account_and_ledger(pts, env) -> None:
    await pts.apply(pts.sale("m6", "10.00"), pts.sale("m7", "10.00"))
    own = await pts.client.get("/v1/accounts/m6", headers=env.auth(Role.MEMBER, member_id="m6"))
    assert own.status_code == 200
    for path in ("/v1/accounts/m7", "/v1/accounts/m7/ledger"):
        assert (await pts.client.get(path, headers=env.auth(Role.MEMBER, member_id="m6"))).status_code == 403
    assert (await pts.client.get("/v1/accounts/nobody", headers=env.auth(Role.SERVICE_DESK))).status_code == 404
    assert (await pts.client.get("/v1/accounts/m6", headers=env.auth(Role.POS, store_id="S001"))).status_code == 403


async def test_the_ledger_pages_newest_first(pts, env) -> None:
    await pts.apply(*(pts.sale("m9", f"{i}.00", txn=f"L{i}") for i in range(1, 6)))
    first = (await pts.client.get("/v1/accounts/m9/ledger?limit=2", headers=env.auth(Role.MEMBER, member_id="m9"))).json()
    assert [e["source_ref"] for e in first["entries"]] == ["sale:S001/L5", "sale:S001/L4"]
    second = (await pts.client.get(f"/v1/accounts/m9/ledger?limit=2&before_id={first['next_before_id']}",
                                   headers=env.auth(Role.MEMBER, member_id="m9"))).json()
    assert [e["source_ref"] for e in second["entries"]] == ["sale:S001/L3", "sale:S001/L2"]
    last = (await pts.client.get(f"/v1/accounts/m9/ledger?limit=1&before_id={second['next_before_id']}",
                                 headers=env.auth(Role.MEMBER, member_id="m9"))).json()
    # Exactly full and the last: no next page to send the app to an empty one.
    assert ([e["source_ref"] for e in last["entries"]], last["next_before_id"]) == (["sale:S001/L1"], None)
    # Another member's entry, or an id no entry has, names no place in this ledger.
    await pts.apply(pts.sale("m10", "1.00", txn="L-other"))
    theirs = (await pts.client.get("/v1/accounts/m10/ledger", headers=env.auth(Role.MEMBER, member_id="m10"))).json()
    for foreign in (theirs["entries"][0]["id"], 10**12):
        r = await pts.client.get(f"/v1/accounts/m9/ledger?before_id={foreign}", headers=env.auth(Role.MEMBER, member_id="m9"))
        assert r.status_code == 422 and r.json()["detail"].startswith("before_id: no ledger entry"), r.text


async def test_one_sale_earns_at_most_points_max_and_says_so(pts, caplog) -> None:
    from shared.integers import POINTS_MAX

    with caplog.at_level("WARNING", logger="points.service_layer.earning"):
        await pts.apply(pts.sale("cap1", "20000000.00", txn="T-HUGE"))
    earn = (await pts.account("cap1"))["entries"][0]
    assert (earn["entry_type"], earn["points"]) == ("earn", POINTS_MAX)
    assert earn["reason"] == f"purchase S001/T-HUGE (capped at {POINTS_MAX} points a sale)"
    assert any("S001/T-HUGE" in r.getMessage() for r in caplog.records)


async def test_points_figures_beyond_32_bits_are_stored(pts) -> None:
    # BIGINT columns (migration 0009): on PostgreSQL int4 would refuse the balance and the entry.
    from datetime import UTC, datetime

    from points.adapters.repository import AccountRepository
    from points.domain.model import Source

    big = 3_000_000_000
    async with pts.app.state.sessions() as s:
        repo = AccountRepository(s, datetime.now(UTC))
        account = await repo.lock("cap2")
        account.bonus(big, reason="far beyond int4", source=Source(ref="test:big"), at=datetime.now(UTC))
        account.adjust(-1, reason="one less", source=Source(ref="test:less"), at=datetime.now(UTC))
        await repo.save(account)
        await s.commit()
    acc = await pts.account("cap2")
    assert acc["balance"] == big - 1 == await pts.ledger_sum("cap2")
    assert [(e["points"], e["balance_after"]) for e in acc["entries"]] == [(-1, big - 1), (big, big)]
