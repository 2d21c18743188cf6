"""A member's data export from feedback (audit 7, M4): their complaints with all their text and
history, their surveys with the answers, and the comment book entries about them."""

import pytest

from shared.auth import Role

pytestmark = pytest.mark.integration

RATINGS = {"product_quality": 4, "service": 2, "price": 3, "store_environment": 5, "after_sales": 1}


async def test_the_export_holds_the_members_complaints_surveys_and_comment_book_entries(fb) -> None:
    await fb.register("m-exp", "S001")
    await fb.register("m-other", "S001")
    complaint = await fb.file(member_id="m-exp", description="鸡蛋是坏的")
    await fb.ok(complaint["id"], "acknowledge")
    await fb.ok(complaint["id"], "resolve", note="已退款")
    [invitation] = (await fb.client.get("/v1/surveys/invitations", headers=fb.member("m-exp"))).json()
    await fb.ok(complaint["id"], "reopen", headers=fb.member("m-exp"), reason="还是不满意")
    await fb.ok(complaint["id"], "resolve", note="再次退款")
    await fb.ok(complaint["id"], "rating", headers=fb.member("m-exp"), score=3, comment="太慢了")
    token = invitation["link"].rsplit("/", 1)[1]
    r = await fb.client.post(f"/v1/surveys/answers/{token}", json={"ratings": RATINGS, "nps": 6, "comment": "一般"},
                             headers=fb.member("m-exp"))
    assert r.status_code == 201, r.text
    named = (await fb.client.post("/v1/comment-book", json={"kind": "praise", "text": "顾客表扬收银员", "member_id": "m-exp"},
                                  headers=fb.desk())).json()
    linked = (await fb.client.post("/v1/comment-book", json={"kind": "suggestion", "text": "鸡蛋要检查",
                                                             "complaint_id": complaint["id"]}, headers=fb.desk())).json()
    await fb.client.post("/v1/comment-book", json={"kind": "praise", "text": "别人", "member_id": "m-other"}, headers=fb.desk())
    await fb.file(member_id="m-other", description="别人的投诉")

    for headers in (fb.member("m-exp"), fb.admin()):
        r = await fb.client.get("/v1/members/m-exp/export", headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["member_id"] == "m-exp"
        [c] = body["complaints"]
        assert (c["id"], c["description"], c["resolution_note"], c["rating"], c["rating_comment"]) == (
            complaint["id"], "鸡蛋是坏的", "再次退款", 3, "太慢了")
        assert [h["detail"] for h in c["history"] if h["action"] == "reopen"] == ["还是不满意"]
        assert [h["note"] for h in c["history"] if h["action"] == "resolve"] == ["已退款", "再次退款"]
        [survey] = body["surveys"]
        assert survey["id"] == invitation["id"] and survey["answered_at"] is not None
        assert survey["answer"]["nps"] == 6 and survey["answer"]["comment"] == "一般" and survey["answer"]["service"] == 2
        assert {e["id"]: e["text"] for e in body["comment_book"]} == {named["id"]: "顾客表扬收银员", linked["id"]: "鸡蛋要检查"}
        assert "别人" not in r.text

    # Another member's export, and staff other than admins (as members' export): refused.
    assert (await fb.client.get("/v1/members/m-other/export", headers=fb.member("m-exp"))).status_code == 403
    for role in (Role.SERVICE_DESK, Role.STORE_MANAGER, Role.MARKETING):
        assert (await fb.client.get("/v1/members/m-exp/export", headers=fb.as_(role, store_id="S001"))).status_code == 403


async def test_the_export_of_an_erased_member_keeps_what_the_erasure_left(fb) -> None:
    await fb.register("m-gone", "S001")
    complaint = await fb.file(member_id="m-gone", description="我叫张三")
    await fb.client.post("/v1/comment-book", json={"kind": "suggestion", "text": "张三",
                                                   "complaint_id": complaint["id"]}, headers=fb.desk())
    await fb.erase("m-gone")
    body = (await fb.client.get("/v1/members/m-gone/export", headers=fb.admin())).json()
    assert [c["description"] for c in body["complaints"]] == [None]
    assert [e["text"] for e in body["comment_book"]] == [None]
    assert "张三" not in str(body)


async def test_a_member_feedback_knows_nothing_of_has_an_empty_export(fb) -> None:
    body = (await fb.client.get("/v1/members/m-new/export", headers=fb.member("m-new"))).json()
    assert (body["complaints"], body["surveys"], body["comment_book"]) == ([], [], [])
