"""The comment book (意见簿), and purging a member's free text when members erases them."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from feedback.adapters.tables import ComplaintRow, SurveyResponseRow
from shared.auth import Role
from shared.events import contracts as c
from shared.events.envelope import new_event
from shared.events.registry import COMPLAINT_REOPENED, MEMBER_ERASED
from tests.support.factories import keyed

pytestmark = pytest.mark.integration


async def test_store_manager_reads_their_stores_suggestions_and_praise_newest_first(fb) -> None:
    r = await fb.client.post("/v1/comment-book", json={"kind": "suggestion", "text": "希望增加购物车"}, headers=fb.desk())
    assert r.status_code == 201 and r.json()["store_id"] == "S001" and r.json()["recorded_by"] == "desk-li"
    fb.clock.advance(minutes=5)
    await fb.client.post("/v1/comment-book", json={"kind": "praise", "text": "生鲜区员工很热情"}, headers=fb.store_manager())
    await fb.client.post("/v1/comment-book", json={"kind": "praise", "text": "别家门店"}, headers=fb.desk("S002"))
    entries = (await fb.client.get("/v1/comment-book", headers=fb.store_manager())).json()
    assert [e["text"] for e in entries] == ["生鲜区员工很热情", "希望增加购物车"]
    praise = (await fb.client.get("/v1/comment-book", params={"kind": "praise"}, headers=fb.admin())).json()
    assert len(praise) == 2
    assert (await fb.client.get("/v1/comment-book", params={"store_id": "S002"}, headers=fb.store_manager())).status_code == 403
    assert (await fb.client.get("/v1/comment-book", headers=fb.as_(Role.MARKETING))).status_code == 403


async def test_an_entry_links_to_a_complaint_of_the_same_store(fb) -> None:
    complaint = await fb.file(channel="comment_book", category="store_environment", severity="low")
    entry = (await fb.client.post("/v1/comment-book", json={"kind": "suggestion", "text": "卫生间需要清洁"}, headers=fb.desk())).json()
    r = await fb.client.post(f"/v1/comment-book/{entry['id']}/complaint", json={"complaint_id": complaint["id"]}, headers=fb.store_manager())
    assert r.status_code == 200 and r.json()["complaint_id"] == complaint["id"] and r.json()["linked_by"] == "sm-zhao"
    elsewhere = await fb.file(headers=fb.desk("S002"))
    r = await fb.client.post(f"/v1/comment-book/{entry['id']}/complaint", json={"complaint_id": elsewhere["id"]}, headers=fb.admin())
    assert r.status_code == 409 and "concerns store S002" in r.json()["detail"]
    r = await fb.client.post("/v1/comment-book", json={"kind": "praise", "text": "x", "complaint_id": "nope"}, headers=fb.desk())
    assert r.status_code == 404 and "complaint_id" in r.text
    # An empty id names no complaint: refused as such, not stored as a link to nothing.
    r = await fb.client.post("/v1/comment-book", json={"kind": "praise", "text": "x", "complaint_id": ""}, headers=fb.desk())
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "complaint_id"]
    # Nor does an id with a NUL in it, which PostgreSQL would refuse to even compare.
    r = await fb.client.post("/v1/comment-book", json={"kind": "praise", "text": "x", "member_id": "m\x00"}, headers=fb.desk())
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "member_id"]
    r = await fb.client.post("/v1/comment-book", json={"kind": "complaint", "text": "x"}, headers=fb.desk())
    assert r.status_code == 422 and "kind" in r.text


async def test_erasure_purges_the_members_free_text_but_keeps_the_counts(fb) -> None:
    await fb.register("m-gone", "S001")  # the desk names them in its store's comment book
    # Under a key: the filing's fingerprint is derived from the description, so it goes with it.
    complaint = await fb.file(fb.desk() | {"Idempotency-Key": "desk-20261123-0001"}, member_id="m-gone",
                              description="我叫张三，住在阳光花园3幢")
    await fb.ok(complaint["id"], "acknowledge")
    await fb.ok(complaint["id"], "resolve", note="已联系张三")
    [invitation] = (await fb.client.get("/v1/surveys/invitations", headers=fb.member("m-gone"))).json()
    await fb.ok(complaint["id"], "reopen", headers=fb.member("m-gone"), reason="张三仍不满意")
    await fb.ok(complaint["id"], "resolve", note="ok")
    await fb.ok(complaint["id"], "rating", headers=fb.member("m-gone"), score=2, comment="张三觉得太慢")
    token = invitation["link"].rsplit("/", 1)[1]
    ratings = {"product_quality": 1, "service": 1, "price": 1, "store_environment": 1, "after_sales": 1}
    await fb.client.post(f"/v1/surveys/answers/{token}", json={"ratings": ratings, "nps": 0, "comment": "张三的意见"},
                         headers=fb.member("m-gone"))
    await fb.client.post("/v1/comment-book", json={"kind": "praise", "text": "张三表扬", "member_id": "m-gone"}, headers=fb.desk())
    await fb.register("m-stays", "S001")
    keeper = await fb.file(member_id="m-stays", description="保留")

    erased = new_event(MEMBER_ERASED, c.MemberErasedV1(member_id="m-gone", erased_at=datetime.now(UTC)), source="crm/members")
    await fb.apply(erased)

    after = (await fb.client.get(f"/v1/complaints/{complaint['id']}", headers=fb.admin())).json()
    assert "张三" not in str(after)
    assert (after["description"], after["resolution_note"], after["rating_comment"]) == (None, None, None)
    # Each round's note in the history too: the first round's named them, and the later one goes as well.
    assert [(h["detail"], h["note"]) for h in after["history"] if h["action"] == "resolve"] == [("round 0", None), ("round 1", None)]
    assert all(h["note"] is None for h in after["history"])
    assert (after["rating"], after["category"], after["status"]) == (2, "product_quality", "resolved")
    assert [e["text"] for e in (await fb.client.get("/v1/comment-book", headers=fb.admin())).json()] == [None]
    async with fb.app.state.sessions() as s:
        [response] = (await s.exec(select(SurveyResponseRow))).all()
        fingerprint = (await s.exec(select(ComplaintRow.request_hash).where(ComplaintRow.id == complaint["id"]))).one()
    assert response.comment is None and response.nps == 0
    assert fingerprint is None
    listed = (await fb.client.get("/v1/complaints", params={"member_id": "m-gone"}, headers=fb.admin())).json()
    assert len(listed) == 1
    kept = (await fb.client.get(f"/v1/complaints/{keeper['id']}", headers=fb.admin())).json()
    assert kept["description"] == "保留"


async def test_nothing_new_is_recorded_about_an_erased_member(fb) -> None:
    """Finding: the erasure empties the member's text once, when the event arrives; a complaint or
    an entry recorded after it kept a name and a phone number for good."""
    await fb.register("m-erased", "S001")
    still_open = await fb.file(member_id="m-erased", description="顾客投诉")
    await fb.ok(still_open["id"], "acknowledge")
    await fb.erase("m-erased")

    filing = {"category": "price", "severity": "low", "description": "我叫张三，电话13912345678", "member_id": "m-erased"}
    r = await fb.client.post("/v1/complaints", json=filing, headers=keyed(fb.desk()))
    assert r.status_code == 409 and r.json()["detail"] == "member_id: member is erased; nothing more is recorded about them"
    r = await fb.client.post("/v1/comment-book", json={"kind": "praise", "text": "张三表扬 13912345678", "member_id": "m-erased"},
                             headers=fb.desk())
    assert r.status_code == 409 and "member is erased" in r.json()["detail"]

    # The complaint still open is worked to its end (it would otherwise escalate for ever), with
    # nothing granted and nothing written about the customer kept.
    r = await fb.act(still_open["id"], "resolve", note="补偿", compensation={"points": 100})
    assert r.status_code == 409 and "member is erased" in r.json()["detail"]
    resolved = await fb.ok(still_open["id"], "resolve", note="已联系张三 13912345678")
    rated = await fb.ok(still_open["id"], "rating", score=4, comment="张三说谢谢")
    assert resolved["resolution_note"] is None and (rated["resolution_note"], rated["rating_comment"]) == (None, None)
    assert (rated["status"], rated["rating"], rated["compensation_points"]) == ("resolved", 4, 0)
    everything = (await fb.client.get("/v1/complaints", params={"member_id": "m-erased"}, headers=fb.admin())).json()
    assert [c["id"] for c in everything] == [still_open["id"]]
    assert "张三" not in str(rated) and "13912345678" not in str(rated)
    assert (await fb.client.get("/v1/comment-book", headers=fb.admin())).json() == []


async def test_an_id_no_member_can_have_is_422_but_a_registration_on_its_way_is_accepted(fb) -> None:
    """Finding: the desk filed for `nonexistent`. Members names its members by UUID, so such an id
    is refused; a UUID feedback has not heard of is a registration still on its way over the broker
    (the desk registered the customer a moment ago), and accepted."""
    filing = {"category": "price", "severity": "low", "description": "价签错误", "member_id": "nonexistent"}
    r = await fb.client.post("/v1/complaints", json=filing, headers=keyed(fb.desk()))
    assert r.status_code == 422 and r.json()["detail"].startswith("member_id: no member nonexistent"), r.text
    r = await fb.client.post("/v1/comment-book", json={"kind": "praise", "text": "很好", "member_id": "nonexistent"}, headers=fb.desk())
    assert r.status_code == 422 and r.json()["detail"].startswith("member_id: "), r.text

    just_registered = str(uuid.uuid4())
    complaint = await fb.file(member_id=just_registered, description="我叫张三，电话13912345678")
    entry = await fb.client.post("/v1/comment-book", json={"kind": "praise", "text": "张三表扬", "member_id": just_registered},
                                 headers=fb.desk())
    assert entry.status_code == 201, entry.text
    # The member's events then arrive in their order; an erasure among them reaches what was filed.
    await fb.register(just_registered, "S001")
    await fb.erase(just_registered)
    after = (await fb.client.get(f"/v1/complaints/{complaint['id']}", headers=fb.admin())).json()
    assert after["description"] is None
    assert [e["text"] for e in (await fb.client.get("/v1/comment-book", headers=fb.admin())).json()] == [None]


async def test_entries_filed_under_an_erased_members_complaint_are_emptied_and_no_new_one_is_taken(fb) -> None:
    """Finding (audit 7, M2): the desk files a page of the comment book under the customer's
    complaint without naming them again; the erasure emptied only entries naming them by
    `member_id`, and entries could still be filed under their complaint afterwards."""
    await fb.register("m-linked", "S001")
    theirs = await fb.file(member_id="m-linked", description="顾客投诉")
    other = await fb.file(description="匿名投诉")
    linked = await fb.client.post("/v1/comment-book", json={"kind": "suggestion", "text": "张三 13912345678",
                                                            "complaint_id": theirs["id"]}, headers=fb.desk())
    assert linked.status_code == 201, linked.text
    later = (await fb.client.post("/v1/comment-book", json={"kind": "praise", "text": "张三表扬"}, headers=fb.desk())).json()
    r = await fb.client.post(f"/v1/comment-book/{later['id']}/complaint", json={"complaint_id": theirs["id"]}, headers=fb.desk())
    assert r.status_code == 200, r.text
    kept = await fb.client.post("/v1/comment-book", json={"kind": "praise", "text": "保留",
                                                          "complaint_id": other["id"]}, headers=fb.desk())
    await fb.erase("m-linked")

    entries = {e["id"]: e["text"] for e in (await fb.client.get("/v1/comment-book", headers=fb.admin())).json()}
    assert entries == {linked.json()["id"]: None, later["id"]: None, kept.json()["id"]: "保留"}
    r = await fb.client.post("/v1/comment-book", json={"kind": "praise", "text": "张三又来了",
                                                       "complaint_id": theirs["id"]}, headers=fb.desk())
    assert r.status_code == 409 and r.json()["detail"] == "complaint_id: member is erased; nothing more is recorded about them"
    fresh = (await fb.client.post("/v1/comment-book", json={"kind": "praise", "text": "张三"}, headers=fb.desk())).json()
    r = await fb.client.post(f"/v1/comment-book/{fresh['id']}/complaint", json={"complaint_id": theirs["id"]}, headers=fb.desk())
    assert r.status_code == 409 and "member is erased" in r.json()["detail"]
    texts = [e["text"] for e in (await fb.client.get("/v1/comment-book", headers=fb.admin())).json()]
    assert "张三又来了" not in texts and texts.count(None) == 2


async def test_a_resolved_complaint_of_an_erased_member_is_not_reopened(fb) -> None:
    """Finding: a resolved complaint of an erased customer was reopened and went back into the desk's
    queue with a deadline, to escalate, although nothing more could be done for the customer."""
    await fb.register("m-reopen", "S001")
    resolved = await fb.file(member_id="m-reopen", description="顾客投诉")
    await fb.ok(resolved["id"], "acknowledge")
    await fb.ok(resolved["id"], "resolve", note="已处理")
    closed = await fb.file(member_id="m-reopen", description="另一宗投诉")
    await fb.ok(closed["id"], "acknowledge")
    await fb.ok(closed["id"], "resolve", note="已处理")
    await fb.ok(closed["id"], "close")
    still_open = await fb.file(member_id="m-reopen", description="还在处理")
    await fb.erase("m-reopen")

    for complaint, status in ((resolved, "resolved"), (closed, "closed")):
        for headers in (fb.desk(), fb.store_manager(), fb.admin()):
            r = await fb.act(complaint["id"], "reopen", headers, reason="顾客又来了")
            assert r.status_code == 409, r.text
            assert r.json()["detail"] == "complaint_id: member is erased; nothing more is recorded about them"
        after = (await fb.client.get(f"/v1/complaints/{complaint['id']}", headers=fb.admin())).json()
        assert (after["status"], after["next_due_at"], after["reopen_count"], after["member_erased"]) == (status, None, 0, True)
        assert "reopen" not in [h["action"] for h in after["history"]]
    queue = (await fb.client.get("/v1/complaints/queue", headers=fb.desk())).json()
    assert [c["id"] for c in queue] == [still_open["id"]]  # the one open at the erasure, to be worked to its end
    assert await fb.outbox(COMPLAINT_REOPENED) == []


async def test_a_complaint_says_whether_its_member_was_erased(fb) -> None:
    await fb.register("m-kept", "S001")
    theirs = await fb.file(member_id="m-kept")
    anonymous = await fb.file()
    for complaint in (theirs, anonymous):
        assert (await fb.client.get(f"/v1/complaints/{complaint['id']}", headers=fb.admin())).json()["member_erased"] is False
    await fb.erase("m-kept")
    assert (await fb.client.get(f"/v1/complaints/{theirs['id']}", headers=fb.admin())).json()["member_erased"] is True
