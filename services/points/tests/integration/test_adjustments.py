"""Manual adjustments, bonuses, bulk bonus jobs and complaint compensation."""

import io
import re
from csv import reader
from datetime import UTC, datetime

import pytest

from points.service_layer import bulk
from points.service_layer.bulk import run_job
from shared.auth import Role
from shared.unit_of_work import UnitOfWork
from tests.support.factories import keyed
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


async def test_managers_adjust_with_a_reason_and_retries_book_once(pts, env) -> None:
    await pts.apply(pts.registered("a1", home_store_id="S001"), pts.sale("a1", "100.00"))
    manager = {**env.auth(Role.STORE_MANAGER, store_id="S001"), "Idempotency-Key": "adjust-a1-0001"}
    r = await pts.client.post("/v1/accounts/a1/adjustments", json={"points": -30, "reason": "duplicate till entry"}, headers=manager)
    assert r.status_code == 201, r.text
    assert (r.json()["entry_type"], r.json()["points"], r.json()["staff_id"]) == ("adjust", -30, "test-store_manager")
    again = await pts.client.post("/v1/accounts/a1/adjustments", json={"points": -30, "reason": "duplicate till entry"}, headers=manager)
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    for other in ({"points": -300, "reason": "duplicate till entry"}, {"points": -30, "reason": "another correction"}):
        reused = await pts.client.post("/v1/accounts/a1/adjustments", json=other, headers=manager)
        assert reused.status_code == 409 and reused.json()["detail"] == "Idempotency-Key adjust-a1-0001 was used for a different adjust"
    assert await pts.balance("a1") == 70
    too_much = await pts.client.post("/v1/accounts/a1/adjustments", json={"points": -71, "reason": "correction"}, headers=keyed(env.auth(Role.ADMIN)))
    # A state of the account (409), named for what it is: not a refused redemption.
    assert too_much.status_code == 409 and "below zero" in too_much.json()["detail"]
    assert too_much.json()["error"] == "NotEnoughPoints"
    no_reason = await pts.client.post("/v1/accounts/a1/bonuses", json={"points": 5}, headers=keyed(env.auth(Role.ADMIN)))
    assert no_reason.status_code == 422 and no_reason.json()["detail"][0]["loc"] == ["body", "reason"]
    zero = await pts.client.post("/v1/accounts/a1/adjustments", json={"points": 0, "reason": "nothing"}, headers=keyed(env.auth(Role.ADMIN)))
    assert zero.status_code == 422
    desk = await pts.client.post("/v1/accounts/a1/bonuses", json={"points": 5, "reason": "goodwill"}, headers=keyed(pts.desk()))
    assert desk.status_code == 403
    bonus = await pts.client.post("/v1/accounts/a1/bonuses", json={"points": 50, "reason": "store anniversary"}, headers=keyed(env.auth(Role.ADMIN)))
    assert bonus.status_code == 201 and bonus.json()["entry_type"] == "bonus"
    assert await pts.balance("a1") == 120 == await pts.ledger_sum("a1")


async def test_a_bulk_bonus_is_one_idempotent_job_with_progress_and_a_report(pts, env) -> None:
    members = [f"k{i}" for i in range(5)]
    await pts.apply(*(pts.registered(m) for m in members))
    body = {"member_ids": [*members, "k0", "unknown-member"], "points": 200, "reason": "双十一 bonus"}
    headers = {**env.auth(Role.ADMIN), "Idempotency-Key": "bulk-2026-11-11"}
    started = await pts.client.post("/v1/bulk-bonuses", json=body, headers=headers)
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    assert started.json()["total"] == 6

    async def finished() -> dict | None:
        report = (await pts.client.get(f"/v1/bulk-bonuses/{job_id}", headers=headers)).json()
        return report if report["status"] == "done" else None

    report = await eventually(finished, timeout=20, what="bulk bonus finished")
    assert (report["booked"], report["skipped"]) == (5, 1)
    assert {i["member_id"]: i["outcome"] for i in report["items"]}["unknown-member"] == "skipped"
    replay = await pts.client.post("/v1/bulk-bonuses", json=body, headers=headers)
    assert replay.status_code == 200 and replay.json()["job_id"] == job_id
    assert await run_job(pts.app.state.commands, job_id) == {"booked": 0, "skipped": 0}  # a second run finds it done
    for m in members:
        assert await pts.balance(m) == 200
    entry = (await pts.account("k1"))["entries"][0]
    assert (entry["entry_type"], entry["job_id"], entry["reason"]) == ("bonus", job_id, "双十一 bonus")
    conflict = await pts.client.post("/v1/bulk-bonuses", json={**body, "points": 300}, headers=headers)
    assert conflict.status_code == 409
    csv = await pts.client.get(f"/v1/bulk-bonuses/{job_id}?format=csv", headers=headers)
    assert csv.text.startswith("\ufeff会员 Member") and "unknown-member" in csv.text
    table = list(reader(io.StringIO(csv.text.lstrip("\ufeff"))))
    assert table[0] == ["会员 Member", "卡号 Card", "结果 Outcome", "积分 Points", "说明 Detail", "处理时间 Processed at"]
    # The chain's local time, as every printed report, and the points booked summed in the last row.
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", row[5]) for row in table[1:-1]), table
    assert {row[0]: row[3] for row in table[1:-1]}["unknown-member"] == "0"
    # Each member by the card their account holds now, which staff know them by; none without an account.
    assert {row[0]: row[1] for row in table[1:-1]}["unknown-member"] == ""
    # The result in the report's two languages, as its headings, not the codes the job stores.
    results = {row[0]: (row[2], row[4]) for row in table[1:-1]}
    assert results["unknown-member"] == ("已跳过 skipped", "没有积分账户 no points account")
    assert results["k1"] == ("已发放 booked", "200 积分 points")
    assert all(re.fullmatch(r"88\d{11}", row[1]) for row in table[1:-1] if row[0] != "unknown-member"), table
    assert table[-1][3] == "1000"


async def test_an_interrupted_bulk_job_resumes_without_booking_anyone_twice(pts, env) -> None:
    members = [f"j{i}" for i in range(7)]
    await pts.apply(*(pts.registered(m) for m in members))
    async with UnitOfWork(pts.app.state.sessions, "points") as uow:
        job, _ = await bulk.create_job(uow, idempotency_key="resume-test-1", member_ids=members, points=10, reason="resume",
                                       staff_id="mgr", now=datetime.now(UTC))
        job_id = job.job_id
    async with UnitOfWork(pts.app.state.sessions, "points") as uow:  # the first chunk of 3 made it before a crash
        job = await uow.session.get(bulk.BulkBonusJobRow, job_id)
        await bulk._book_chunk(uow, job, members[:3], datetime.now(UTC))
    r = await pts.client.post("/v1/jobs/bulk-bonus/run", headers=env.auth(Role.ADMIN))
    assert r.status_code == 200 and r.json() == {"jobs": 1, "booked": 4, "skipped": 0, "failed": 0}
    for m in members:
        assert await pts.balance(m) == 10 == await pts.ledger_sum(m)


async def test_a_bulk_job_that_keeps_failing_does_not_hold_up_the_others(pts, env, monkeypatch) -> None:
    await pts.apply(pts.registered("k1"), pts.registered("k2"))
    async with UnitOfWork(pts.app.state.sessions, "points") as uow:
        stuck, _ = await bulk.create_job(uow, idempotency_key="stuck-job-0001", member_ids=["k1"], points=10,
                                         reason="stuck", staff_id="mgr", now=datetime(2026, 11, 1, tzinfo=UTC))
        await bulk.create_job(uow, idempotency_key="fine-job-0001", member_ids=["k2"], points=10,
                              reason="fine", staff_id="mgr", now=datetime(2026, 11, 2, tzinfo=UTC))
        stuck_id = stuck.job_id
    book = bulk._book_chunk

    async def failing_for_the_stuck_job(uow, job, chunk, now):
        if job.job_id == stuck_id:
            raise RuntimeError("the database refuses this chunk")
        return await book(uow, job, chunk, now)

    monkeypatch.setattr(bulk, "_book_chunk", failing_for_the_stuck_job)
    r = await pts.client.post("/v1/jobs/bulk-bonus/run", headers=env.auth(Role.ADMIN))
    assert r.status_code == 200 and r.json() == {"jobs": 2, "booked": 1, "skipped": 0, "failed": 1}, r.text
    assert (await pts.balance("k1"), await pts.balance("k2")) == (0, 10)
    monkeypatch.setattr(bulk, "_book_chunk", book)  # the cause put right: the next run finishes it
    r = await pts.client.post("/v1/jobs/bulk-bonus/run", headers=env.auth(Role.ADMIN))
    assert r.json() == {"jobs": 1, "booked": 1, "skipped": 0, "failed": 0}
    assert await pts.balance("k1") == 10


async def test_complaint_compensation_is_booked_once_per_complaint(pts) -> None:
    resolved = pts.complaint_resolved("a2", 300, complaint_id="C-0001")
    await pts.apply(resolved, resolved)
    await pts.apply(pts.complaint_resolved("a2", 300, complaint_id="C-0001"))  # a new event id for the same complaint
    await pts.apply(pts.complaint_resolved(None, 500), pts.complaint_resolved("a2", 0))  # anonymous; no points promised
    acc = await pts.account("a2")
    assert acc["balance"] == 300
    [entry] = acc["entries"]
    assert (entry["entry_type"], entry["reason"], entry["source_ref"]) == ("bonus", "complaint compensation", "complaint:C-0001")


async def test_compensation_is_booked_under_the_staff_member_who_resolved_the_complaint(pts, env) -> None:
    await pts.apply(pts.registered("a3", home_store_id="S001"))
    await pts.apply(pts.complaint_resolved("a3", 9_000, complaint_id="C-0002", resolved_by="sm-S001"))
    [entry] = (await pts.account("a3"))["entries"]
    assert (entry["entry_type"], entry["points"], entry["source_ref"], entry["staff_id"]) == (
        "bonus", 9_000, "complaint:C-0002", "sm-S001")
    # Feedback caps compensation per complaint; it is not one of their manual entries of the day, so
    # the store manager's daily cap (10,000) is not spent by it.
    manager = {"Authorization": f"Bearer {env.issuer.mint('sm-S001', Role.STORE_MANAGER, store_id='S001')}"}
    r = await pts.client.post("/v1/accounts/a3/bonuses", json={"points": 2_000, "reason": "store event"}, headers=keyed(manager))
    assert r.status_code == 201, r.text
    assert await pts.balance("a3") == 11_000


@pytest.mark.parametrize("path", ["/v1/accounts/a4/adjustments", "/v1/accounts/a4/bonuses",
                                  "/v1/entitlements/a4/leftover_collection_visit/uses"])
async def test_a_manual_entry_without_an_idempotency_key_is_422_naming_the_header(pts, env, path) -> None:
    """Without a key, a retry after a lost answer would book the points (or the visit) again."""
    await pts.apply(pts.registered("a4", home_store_id="S001"), pts.milestone("a4", "50000.00"))
    body = {"used_on": "2026-11-01", "store_id": "S001"} if path.endswith("/uses") else {"points": 5, "reason": "goodwill"}
    r = await pts.client.post(path, json=body, headers=env.auth(Role.ADMIN))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"], r.text
    assert await pts.balance("a4") == 0 and (await pts.account("a4"))["entries"] == []


async def test_a_bulk_bonus_by_card_numbers_is_the_job_of_their_members(pts, env) -> None:
    await pts.apply(pts.registered("c1", card_no="8800000000011"), pts.registered("c2", card_no="8800000000022"))
    admin = env.auth(Role.ADMIN)
    by_cards = {"card_nos": ["8800000000011", "8800000000022", "8800000000011"], "points": 100, "reason": "门店店庆"}
    started = await pts.client.post("/v1/bulk-bonuses", json=by_cards, headers={**admin, "Idempotency-Key": "cards-0001"})
    assert started.status_code == 202 and started.json()["total"] == 2, started.text
    # The same customers by id under the key are the same job.
    by_ids = {"member_ids": ["c1", "c2"], "points": 100, "reason": "门店店庆"}
    again = await pts.client.post("/v1/bulk-bonuses", json=by_ids, headers={**admin, "Idempotency-Key": "cards-0001"})
    assert again.status_code == 200 and again.json()["job_id"] == started.json()["job_id"]
    # In another order too: the members are a set; and the cards pasted in full-width digits are the same cards.
    for body in ({**by_ids, "member_ids": ["c2", "c1"]}, {**by_cards, "card_nos": ["8800000000022", "8800000000011"]},
                 {**by_cards, "card_nos": ["８８０００００００００２２", "８８０００００００００１１"]}):
        again = await pts.client.post("/v1/bulk-bonuses", json=body, headers={**admin, "Idempotency-Key": "cards-0001"})
        assert again.status_code == 200 and again.json()["job_id"] == started.json()["job_id"], again.text
    await eventually(lambda: _done(pts, admin, started.json()["job_id"]), timeout=20, what="bulk bonus finished")
    assert await pts.balance("c1") == 100 == await pts.balance("c2")

    unknown = await pts.client.post("/v1/bulk-bonuses", json={**by_cards, "card_nos": ["8800000000011", "8899999999999"]},
                                    headers={**admin, "Idempotency-Key": "cards-0002"})
    assert unknown.status_code == 422 and unknown.json()["detail"] == "card_nos: no points account holds 8899999999999"
    for body in ({"points": 5, "reason": "门店店庆"}, {**by_cards, **by_ids}):
        r = await pts.client.post("/v1/bulk-bonuses", json=body, headers={**admin, "Idempotency-Key": "cards-0003"})
        assert r.status_code == 422 and "member_ids, card_nos: give one of them" in r.text

    listed = (await pts.client.get("/v1/bulk-bonuses", headers=admin)).json()
    assert [(j["job_id"], j["total"], j["booked"], j["status"]) for j in listed] == [(started.json()["job_id"], 2, 2, "done")]
    assert (await pts.client.get("/v1/bulk-bonuses", headers=pts.desk())).status_code == 403


async def _done(pts, headers: dict[str, str], job_id: str) -> bool:
    return (await pts.client.get(f"/v1/bulk-bonuses/{job_id}", headers=headers)).json()["status"] == "done"
