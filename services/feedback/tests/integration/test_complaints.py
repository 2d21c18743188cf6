"""Complaints through the API on SQLite and PostgreSQL: filing, routing, the workflow, recovery."""

import pytest

from shared.auth import Role
from shared.events.registry import COMPLAINT_FILED, COMPLAINT_REOPENED, COMPLAINT_RESOLVED
from tests.support.factories import keyed

pytestmark = pytest.mark.integration


async def test_desk_files_a_complaint_into_its_store_queue_and_announces_it_without_free_text(fb) -> None:
    await fb.register("m1", "S001")
    complaint = await fb.file(member_id="m1", sale={"pos_txn_id": "S001-T03-000123"}, description="收银员态度差，电话13912345678")
    assert complaint["status"] == "filed" and complaint["assignee"] == "desk:S001" and complaint["store_id"] == "S001"
    assert complaint["channel"] == "service_desk" and complaint["filed_by"] == "desk-li"
    assert complaint["ack_due_at"].startswith("2026-11-23T06:00") and complaint["resolve_due_at"].startswith("2026-11-24T02:00")
    assert [h["action"] for h in complaint["history"]] == ["filed", "assigned"]
    [event] = await fb.outbox(COMPLAINT_FILED)
    assert event["kafka_key"] == "m1" and event["subject"] == "m1"
    assert event["data"] == {
        "complaint_id": complaint["id"], "member_id": "m1", "store_id": "S001", "category": "product_quality",
        "severity": "high", "channel": "service_desk", "pos_txn_id": "S001-T03-000123", "filed_at": "2026-11-23T02:00:00Z",
    }
    assert "13912345678" not in str(event) and "态度" not in str(event)
    queue = (await fb.client.get("/v1/complaints/queue", headers=fb.desk())).json()
    assert [c["id"] for c in queue] == [complaint["id"]]


async def test_a_vips_complaint_goes_to_their_account_manager(fb) -> None:
    await fb.make_vip("m-vip", "am-wang")
    complaint = await fb.file(member_id="m-vip")
    assert complaint["assignee"] == "am-wang"
    queue = (await fb.client.get("/v1/complaints/queue", headers=fb.as_(Role.ACCOUNT_MANAGER, "am-wang"))).json()
    assert [c["id"] for c in queue] == [complaint["id"]]
    assert (await fb.client.get("/v1/complaints/queue", headers=fb.desk())).json() == []
    other = await fb.client.get(f"/v1/complaints/{complaint['id']}", headers=fb.as_(Role.ACCOUNT_MANAGER, "am-chen"))
    assert other.status_code == 403


async def test_open_complaints_follow_a_member_who_becomes_vip_but_hand_assignments_stay(fb) -> None:
    await fb.register("m2", "S001")
    auto = await fb.file(member_id="m2")
    by_hand = await fb.file(member_id="m2")
    await fb.ok(by_hand["id"], "assign", assignee="store_manager:S001")
    await fb.make_vip("m2", "am-wang")
    moved = (await fb.client.get(f"/v1/complaints/{auto['id']}", headers=fb.admin())).json()
    assert moved["assignee"] == "am-wang"
    assert moved["history"][-1]["actor"] == "system:members" and moved["history"][-1]["detail"] == "desk:S001 -> am-wang"
    kept = (await fb.client.get(f"/v1/complaints/{by_hand['id']}", headers=fb.admin())).json()
    assert kept["assignee"] == "store_manager:S001"


async def test_a_manager_leaving_sends_open_complaints_back_to_the_desk(fb) -> None:
    await fb.make_vip("m3", "am-wang")
    complaint = await fb.file(member_id="m3")
    await fb.make_vip("m3", None)
    assert (await fb.client.get(f"/v1/complaints/{complaint['id']}", headers=fb.admin())).json()["assignee"] == "desk:S001"


async def test_a_reopened_complaint_goes_where_a_new_one_would_and_is_announced(fb) -> None:
    await fb.register("m5", "S001")
    auto = await fb.file(member_id="m5")
    by_hand = await fb.file(member_id="m5")
    await fb.ok(by_hand["id"], "assign", assignee="store_manager:S001")
    for complaint in (auto, by_hand):
        await fb.ok(complaint["id"], "acknowledge")
        await fb.ok(complaint["id"], "resolve", note="ok")
    await fb.make_vip("m5", "am-wang")  # while resolved: member events move open complaints only
    fb.clock.advance(hours=1)
    reopened = await fb.ok(auto["id"], "reopen", reason="又坏了")
    assert reopened["assignee"] == "am-wang"
    assert [(h["action"], h["actor"], h["detail"]) for h in reopened["history"][-2:]] == [
        ("reopen", "desk-li", "又坏了"), ("assigned", "system", "desk:S001 -> am-wang"),
    ]
    assert (await fb.ok(by_hand["id"], "reopen", reason="x"))["assignee"] == "store_manager:S001"
    events = await fb.outbox(COMPLAINT_REOPENED)
    assert [e["data"] for e in events] == [
        {"complaint_id": cid, "member_id": "m5", "store_id": "S001", "reopen_count": 1, "reopened_at": "2026-11-23T03:00:00Z"}
        for cid in (auto["id"], by_hand["id"])
    ]
    assert all(e["kafka_key"] == "m5" for e in events) and "又坏了" not in str(events)


async def test_the_full_workflow_records_every_step_with_actor_and_time(fb) -> None:
    await fb.register("m4", "S001")
    c = await fb.file(member_id="m4")
    fb.clock.advance(hours=1)
    assert (await fb.ok(c["id"], "acknowledge"))["acknowledged_at"].startswith("2026-11-23T03:00")
    fb.clock.advance(hours=1)
    await fb.ok(c["id"], "start")
    fb.clock.advance(hours=1)
    resolved = await fb.ok(c["id"], "resolve", note="已更换商品并致歉")
    assert resolved["status"] == "resolved" and resolved["next_due_at"] is None and resolved["resolution_note"] == "已更换商品并致歉"
    closed = await fb.ok(c["id"], "close", headers=fb.store_manager())
    reopened = await fb.ok(c["id"], "reopen", reason="顾客再次来电")
    steps = [(h["action"], h["from_status"], h["to_status"], h["actor"], h["at"][:16]) for h in reopened["history"]]
    assert steps[2:] == [
        ("acknowledge", "filed", "acknowledged", "desk-li", "2026-11-23T03:00"),
        ("start", "acknowledged", "in_progress", "desk-li", "2026-11-23T04:00"),
        ("resolve", "in_progress", "resolved", "desk-li", "2026-11-23T05:00"),
        ("close", "resolved", "closed", "sm-zhao", "2026-11-23T05:00"),
        ("reopen", "closed", "in_progress", "desk-li", "2026-11-23T05:00"),
    ]
    assert closed["closed_at"] is not None and reopened["closed_at"] is None and reopened["reopen_count"] == 1
    assert reopened["resolve_due_at"].startswith("2026-11-24T05:00")  # 24 h from the reopening


@pytest.mark.parametrize(
    ("prepare", "action", "body", "says"),
    [([], "resolve", {"note": "x"}, "cannot resolve a complaint that is filed: acknowledge it first"),
     ([], "close", None, "only a resolved complaint can be closed"),
     (["acknowledge"], "acknowledge", None, "already acknowledged"),
     (["acknowledge"], "reopen", {"reason": "x"}, "still open"),
     (["acknowledge", ("resolve", {"note": "ok"}), "close"], "start", None, "it is closed; reopen it first")],
)
async def test_invalid_transitions_are_409_with_the_reason(fb, prepare, action, body, says) -> None:
    c = await fb.file()
    for step in prepare:
        name, payload = step if isinstance(step, tuple) else (step, {})
        await fb.ok(c["id"], name, **payload)
    r = await fb.act(c["id"], action, **(body or {}))
    assert r.status_code == 409
    assert says in r.json()["detail"]


async def test_resolution_with_points_is_announced_once_and_never_compensated_again(fb) -> None:
    await fb.register("m5", "S001")
    c = await fb.file(member_id="m5", severity="medium", category="checkout_queues")
    await fb.ok(c["id"], "acknowledge")
    resolved = await fb.ok(c["id"], "resolve", note="道歉并补偿积分", compensation={"points": 500})
    assert resolved["compensation_points"] == 500 and resolved["compensated_at"] is not None
    await fb.ok(c["id"], "reopen", headers=fb.member("m5"), reason="问题没有解决")
    again = await fb.act(c["id"], "resolve", note="再次补偿", compensation={"points": 300})
    assert again.status_code == 409 and "compensated once" in again.json()["detail"]
    await fb.ok(c["id"], "resolve", note="已解决，无额外补偿")
    first, second = await fb.outbox(COMPLAINT_RESOLVED)
    assert first["data"]["compensation_points"] == 500 and second["data"]["compensation_points"] == 0
    assert first["id"] != second["id"] and first["kafka_key"] == "m5"
    assert set(first["data"]) == {"complaint_id", "member_id", "store_id", "category", "severity", "resolved_at",
                                  "compensation_points", "coupon_value", "resolved_by"}
    # Who granted it, by staff id only (the token's subject): points books the compensation under it.
    assert first["data"]["resolved_by"] == second["data"]["resolved_by"] == "desk-li"
    assert (await fb.client.get(f"/v1/complaints/{c['id']}", headers=fb.admin())).json()["compensation_points"] == 500


async def test_each_rounds_resolution_note_stays_in_the_history_after_a_reopening(fb) -> None:
    """Finding: resolved again after a reopening, a complaint showed only the last round's note;
    what staff did the first time (and what they gave for it) was gone from everything a store
    manager reviewing the complaint could read."""
    await fb.register("m11", "S001")
    c = await fb.file(member_id="m11")
    await fb.ok(c["id"], "acknowledge")
    await fb.ok(c["id"], "resolve", note="退款并道歉", compensation={"points": 50})
    fb.clock.advance(hours=2)
    await fb.ok(c["id"], "reopen", headers=fb.member("m11"), reason="顾客又来了")
    await fb.ok(c["id"], "resolve", headers=fb.store_manager(), note="已重发")
    shown = (await fb.client.get(f"/v1/complaints/{c['id']}", headers=fb.store_manager())).json()
    resolutions = [(h["actor"], h["detail"], h["note"]) for h in shown["history"] if h["action"] == "resolve"]
    assert resolutions == [("desk-li", "round 0; compensation 50 points", "退款并道歉"), ("sm-zhao", "round 1", "已重发")]
    # The complaint's own fields still answer with the latest round, and the one compensation,
    # granted at the moment of the resolve step that granted it (the console pairs them so).
    assert (shown["resolution_note"], shown["compensation_points"], shown["reopen_count"]) == ("已重发", 50, 1)
    assert [h["at"] == shown["compensated_at"] for h in shown["history"] if h["action"] == "resolve"] == [True, False]
    # No other step carries a note: the reopening's reason stays where it was.
    assert {h["action"]: h["detail"] for h in shown["history"] if h["note"] is None}["reopen"] == "顾客又来了"


async def test_a_coupon_compensation_is_published_for_campaigns(fb) -> None:
    await fb.register("m6", "S001")
    c = await fb.file(member_id="m6")
    await fb.ok(c["id"], "acknowledge")
    await fb.ok(c["id"], "resolve", note="赠送优惠券", compensation={"coupon_value": "20"})
    [event] = await fb.outbox(COMPLAINT_RESOLVED)
    assert event["data"]["coupon_value"] == "20.00" and event["data"]["compensation_points"] == 0


@pytest.mark.parametrize(
    ("member", "compensation", "status", "says"),
    [(None, {"points": 10}, 409, "anonymous"), ("m7", {"points": 10_001}, 422, "compensation.points"),
     ("m7", {"points": -1}, 422, "points"), ("m7", {"coupon_value": "1.234"}, 422, "coupon_value"),
     ("m7", {"coupon_value": "0.00"}, 422, "greater than 0")],
)
async def test_bad_compensation_is_refused_naming_the_field(fb, member, compensation, status, says) -> None:
    if member:
        await fb.register(member, "S001")
    c = await fb.file(**({"member_id": member} if member else {}))
    await fb.ok(c["id"], "acknowledge")
    r = await fb.act(c["id"], "resolve", note="x", compensation=compensation)
    assert r.status_code == status and says in r.text
    assert (await fb.client.get(f"/v1/complaints/{c['id']}", headers=fb.admin())).json()["status"] == "acknowledged"


async def test_member_files_in_the_app_reads_only_their_own_and_rates_the_handling_once(fb) -> None:
    await fb.register("m8", "S002")
    await fb.register("m9", "S001")
    mine = await fb.file(headers=fb.member("m8"), store_id="S002", category="delivery", severity="low")
    assert mine["member_id"] == "m8" and mine["channel"] == "app" and mine["assignee"] == "desk:S002"
    other = await fb.file(member_id="m9")
    listed = (await fb.client.get("/v1/complaints", headers=fb.member("m8"))).json()
    assert [c["id"] for c in listed] == [mine["id"]]
    assert (await fb.client.get(f"/v1/complaints/{other['id']}", headers=fb.member("m8"))).status_code == 403
    r = await fb.act(mine["id"], "rating", headers=fb.member("m8"), score=5)
    assert r.status_code == 409 and "only a resolved complaint" in r.json()["detail"]
    await fb.ok(mine["id"], "acknowledge", headers=fb.desk("S002"))
    await fb.ok(mine["id"], "resolve", headers=fb.desk("S002"), note="已补送")
    rated = await fb.ok(mine["id"], "rating", headers=fb.member("m8"), score=4, comment="处理及时")
    assert rated["rating"] == 4 and rated["history"][-1]["action"] == "rated"
    again = await fb.act(mine["id"], "rating", headers=fb.member("m8"), score=1)
    assert again.status_code == 409 and "already rated" in again.json()["detail"]
    assert again.json()["detail"].endswith("+08:00"), again.text  # the chain's time, as every moment a refusal names
    assert (await fb.act(mine["id"], "acknowledge", headers=fb.member("m8"))).status_code == 403


async def test_a_member_filing_about_a_sale_with_its_store_files_at_that_store(fb) -> None:
    # The app names the sale with its store and no store_id of the complaint: the sale's store is the
    # complaint's (a member's token names no store to default to).
    await fb.register("m8", "S001")
    sale = {"store_id": "S002", "pos_txn_id": "S002-T01-000042"}
    mine = await fb.file(headers=fb.member("m8"), sale=sale)
    assert (mine["store_id"], mine["assignee"]) == ("S002", "desk:S002")
    assert (mine["sale_store_id"], mine["sale_pos_txn_id"]) == ("S002", "S002-T01-000042")
    # A store named on the complaint still wins, and a desk's own store before the sale's.
    assert (await fb.file(headers=fb.member("m8"), store_id="S001", sale=sale))["store_id"] == "S001"
    assert (await fb.file(sale=sale))["store_id"] == "S001"


async def test_a_rating_is_a_json_integer_never_a_boolean_or_a_string(fb) -> None:
    await fb.register("m8", "S002")
    mine = await fb.file(headers=fb.member("m8"), store_id="S002", category="delivery", severity="low")
    await fb.ok(mine["id"], "acknowledge", headers=fb.desk("S002"))
    await fb.ok(mine["id"], "resolve", headers=fb.desk("S002"), note="已补送")
    for score in (True, "5", 4.0):
        r = await fb.act(mine["id"], "rating", headers=fb.member("m8"), score=score)
        assert r.status_code == 422 and "score" in r.text, (score, r.text)
    assert (await fb.client.get(f"/v1/complaints/{mine['id']}", headers=fb.member("m8"))).json()["rating"] is None


async def test_staff_of_another_store_can_neither_see_nor_handle_a_complaint(fb) -> None:
    c = await fb.file()
    assert (await fb.client.get(f"/v1/complaints/{c['id']}", headers=fb.desk("S002"))).status_code == 403
    assert (await fb.act(c["id"], "acknowledge", headers=fb.store_manager("S002"))).status_code == 403
    r = await fb.client.get("/v1/complaints", params={"store_id": "S001"}, headers=fb.desk("S002"))
    assert r.status_code == 403 and "store_id" in r.text
    assert (await fb.client.get("/v1/complaints", headers=fb.as_(Role.MARKETING))).status_code == 403


async def test_staff_working_with_customers_read_a_customers_complaints_for_the_archive_without_the_free_text(fb) -> None:
    await fb.register("m10", "S001")
    c = await fb.file(member_id="m10")
    [summary] = (await fb.client.get("/v1/complaints", params={"member_id": "m10"}, headers=fb.desk())).json()
    assert summary["id"] == c["id"] and "description" not in summary


async def test_bad_filings_are_422_naming_the_field(fb) -> None:
    for body, field in [
        ({"category": "parking", "severity": "high", "description": "x"}, "category"),
        ({"category": "price", "severity": "urgent", "description": "x"}, "severity"),
        ({"category": "price", "severity": "low", "description": "   "}, "description"),
        # Blank as a phone's IME leaves it: full-width and zero-width spaces, a byte-order mark.
        ({"category": "price", "severity": "low", "description": "\u3000\u3000"}, "description"),
        ({"category": "price", "severity": "low", "description": "\u200b\u3000"}, "description"),
        ({"category": "price", "severity": "low", "description": "\ufeff"}, "description"),
        ({"category": "price", "severity": "low", "description": "x", "sale": {"pos_txn_id": "bad id!"}}, "pos_txn_id"),
    ]:
        r = await fb.client.post("/v1/complaints", json=body, headers=keyed(fb.desk()))
        assert r.status_code == 422 and field in str(r.json()["detail"]), (field, r.text)
    r = await fb.client.post("/v1/complaints", json={"category": "price", "severity": "low", "description": "x"},
                             headers=keyed(fb.admin()))
    assert r.status_code == 422 and "store_id" in r.text
    r = await fb.client.post("/v1/complaints", json={"category": "price", "severity": "low", "description": "x",
                                                     "channel": "app"}, headers=keyed(fb.desk()))
    assert r.status_code == 422 and "channel" in r.text
    r = await fb.client.post("/v1/complaints", json={"category": "price", "severity": "low", "description": "x",
                                                     "member_id": "m-other", "store_id": "S001"}, headers=keyed(fb.member("m11")))
    assert r.status_code == 403


async def test_a_retried_filing_with_the_same_idempotency_key_files_once(fb) -> None:
    body = {"category": "price", "severity": "low", "description": "价签与收银不符", "channel": "phone"}
    headers = fb.desk() | {"Idempotency-Key": "call-20261123-0007"}
    first = await fb.client.post("/v1/complaints", json=body, headers=headers)
    second = await fb.client.post("/v1/complaints", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert len(await fb.outbox(COMPLAINT_FILED)) == 1


async def test_a_filing_without_an_idempotency_key_is_422_naming_the_header_and_files_nothing(fb) -> None:
    """Without a key, a retry after a lost answer (the app on a flaky connection, the phone line's
    integration, the desk's double click) would file a second complaint."""
    body = {"category": "price", "severity": "low", "description": "价签与收银不符", "store_id": "S001"}
    for headers in (fb.desk(), fb.member("m12")):
        r = await fb.client.post("/v1/complaints", json=body, headers=headers)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"], r.text
    assert await fb.outbox(COMPLAINT_FILED) == []
    assert (await fb.client.get("/v1/complaints", headers=fb.admin())).json() == []


async def test_the_same_idempotency_key_with_a_different_filing_is_409_and_files_nothing(fb) -> None:
    body = {"category": "price", "severity": "low", "description": "价签与收银不符", "channel": "phone"}
    headers = fb.desk() | {"Idempotency-Key": "call-20261123-0008"}
    first = await fb.client.post("/v1/complaints", json=body, headers=headers)
    assert first.status_code == 201, first.text
    for changed in ({"description": "另一件事：货架缺货"}, {"severity": "high"}, {"channel": "service_desk"}):
        r = await fb.client.post("/v1/complaints", json=body | changed, headers=headers)
        assert r.status_code == 409, (changed, r.text)
        assert r.json()["detail"] == ("Idempotency-Key call-20261123-0008 was already used to file a different "
                                      "complaint; a new complaint needs a new key")
    # The key still stands for the first complaint: its retry is answered with it, the store the
    # desk's token implies spelled out or not.
    again = await fb.client.post("/v1/complaints", json=body | {"store_id": "S001"}, headers=headers)
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    assert len(await fb.outbox(COMPLAINT_FILED)) == 1


async def test_reassignment_is_recorded_and_refused_once_resolved(fb) -> None:
    await fb.register("m-of-wang", "S001", manager_id="am-wang")  # how feedback knows am-wang: a customer of theirs
    c = await fb.file()
    moved = await fb.ok(c["id"], "assign", headers=fb.store_manager(), assignee="am-wang")
    assert moved["assignee"] == "am-wang" and moved["history"][-1] == {
        "action": "assigned", "from_status": None, "to_status": None, "actor": "sm-zhao",
        "detail": "desk:S001 -> am-wang", "note": None, "at": "2026-11-23T02:00:00Z"}
    await fb.ok(c["id"], "acknowledge")
    await fb.ok(c["id"], "resolve", note="ok")
    r = await fb.act(c["id"], "assign", assignee="desk:S001")
    assert r.status_code == 409 and "reopen it first" in r.json()["detail"]


async def test_unknown_complaint_is_404(fb) -> None:
    assert (await fb.client.get("/v1/complaints/nope", headers=fb.admin())).status_code == 404
    assert (await fb.act("nope", "acknowledge")).status_code == 404


async def test_a_complaint_is_reassigned_only_to_who_can_handle_it(fb) -> None:
    """Finding: any text was taken: `nobody-at-all` left the complaint in no queue, and `desk:S002`
    put an S001 complaint in the queue of a desk that is refused when it opens it."""
    await fb.register("m-of-wang", "S002", manager_id="am-wang")  # am-wang, known to feedback as an account manager
    c = await fb.file()  # lodged at S001, in desk:S001
    for assignee, says in [("nobody-at-all", "no account manager nobody-at-all"), ("desk:S002", "queue of store S002"),
                           ("store_manager:S002", "queue of store S002")]:
        r = await fb.act(c["id"], "assign", headers=fb.store_manager(), assignee=assignee)
        assert r.status_code == 422 and r.json()["detail"].startswith("assignee: ") and says in r.json()["detail"], r.text
    for malformed in ("queue:S001", "desk:", "desk:S 001", "am wang"):
        r = await fb.act(c["id"], "assign", assignee=malformed)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "assignee"], r.text
    unchanged = (await fb.client.get(f"/v1/complaints/{c['id']}", headers=fb.admin())).json()
    assert unchanged["assignee"] == "desk:S001" and [h["action"] for h in unchanged["history"]] == ["filed", "assigned"]
    assert (await fb.client.get("/v1/complaints/queue", headers=fb.desk("S002"))).json() == []

    await fb.ok(c["id"], "assign", headers=fb.store_manager(), assignee="store_manager:S001")
    # An account manager handles what is assigned to them, whatever store it was lodged at.
    await fb.ok(c["id"], "assign", headers=fb.store_manager(), assignee="am-wang")
    wang = fb.as_(Role.ACCOUNT_MANAGER, "am-wang")
    assert [q["id"] for q in (await fb.client.get("/v1/complaints/queue", headers=wang)).json()] == [c["id"]]
    assert (await fb.act(c["id"], "acknowledge", headers=wang)).status_code == 200


async def test_a_handler_takes_a_complaint_from_the_shared_queue_where_colleagues_see_who_is_on_it(fb) -> None:
    c = await fb.file()
    li, wu = fb.desk(), fb.as_(Role.SERVICE_DESK, "desk-wu", store_id="S001")
    taken = await fb.ok(c["id"], "take", headers=li)
    assert (taken["assignee"], taken["handled_by"]) == ("desk:S001", "desk-li")
    assert taken["history"][-1] | {"at": None} == {
        "action": "taken", "from_status": None, "to_status": None, "actor": "desk-li", "detail": None, "note": None, "at": None}
    # A second click changes nothing; the complaint stays in the store's queue for everyone.
    assert len((await fb.ok(c["id"], "take", headers=li))["history"]) == len(taken["history"])
    for headers in (wu, fb.store_manager()):
        [shown] = (await fb.client.get("/v1/complaints/queue", headers=headers)).json()
        assert shown["handled_by"] == "desk-li"
    mine = await fb.client.get("/v1/complaints/queue", params={"mine": True}, headers=li)
    assert [q["id"] for q in mine.json()] == [c["id"]]
    assert (await fb.client.get("/v1/complaints/queue", params={"mine": True}, headers=wu)).json() == []
    # A colleague takes it over (Li went home); another store's desk may not take it at all.
    over = await fb.ok(c["id"], "take", headers=wu)
    assert over["handled_by"] == "desk-wu" and over["history"][-1]["detail"] == "from desk-li"
    assert (await fb.act(c["id"], "take", headers=fb.desk("S002"))).status_code == 403
    # Handed on, it waits for its new assignee to take it up.
    handed = await fb.ok(c["id"], "assign", headers=fb.store_manager(), assignee="store_manager:S001")
    assert handed["handled_by"] is None
    await fb.ok(c["id"], "acknowledge")
    await fb.ok(c["id"], "resolve", note="已退款")
    r = await fb.act(c["id"], "take", headers=li)
    assert r.status_code == 409 and "reopen it first" in r.json()["detail"]
