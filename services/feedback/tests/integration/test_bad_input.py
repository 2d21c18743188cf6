"""Hostile values are a 422 naming the field, never a server error."""

import json

import pytest

from tests.support.factories import keyed

pytestmark = pytest.mark.integration


async def test_compensation_points_beyond_64_bits_are_422(fb) -> None:
    complaint = await fb.file()
    r = await fb.act(complaint["id"], "resolve", note="已退款", compensation={"points": 99999999999999999999999})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][:3] == ["body", "compensation", "points"]


@pytest.mark.parametrize("bad", ["牛奶\u0000过期", "牛奶\ud800"])
async def test_nul_or_a_lone_surrogate_in_a_description_is_422(fb, bad: str) -> None:
    body = json.dumps({"category": "product_quality", "severity": "high", "description": bad})
    r = await fb.client.post("/v1/complaints", content=body, headers=keyed({**fb.desk(), "Content-Type": "application/json"}))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "description"]


@pytest.mark.parametrize("points", [True, "5", 5.0], ids=repr)
async def test_compensation_points_that_are_not_a_json_integer_are_422(fb, points) -> None:
    """Finding: `{"points": true}` was taken for 1 point (and "5" for 5)."""
    await fb.register("m-bi", "S001")
    complaint = await fb.file(member_id="m-bi")
    await fb.ok(complaint["id"], "acknowledge")
    r = await fb.act(complaint["id"], "resolve", note="已退款", compensation={"points": points})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "compensation", "points"]
    assert (await fb.client.get(f"/v1/complaints/{complaint['id']}", headers=fb.admin())).json()["status"] == "acknowledged"


async def test_a_field_a_body_does_not_have_is_422_naming_it_not_dropped(fb) -> None:
    # A field a body does not have (`coupon` for `coupon_value`, a phone) was answered as if taken.
    complaint = {"category": "product_quality", "severity": "high", "description": "买到的牛奶已过期"}
    for body, loc in (({**complaint, "phone": "13800138000"}, ["body", "phone"]),
                      ({**complaint, "sale": {"pos_txn_id": "S001-T1-1", "till": "3"}}, ["body", "sale", "till"])):
        r = await fb.client.post("/v1/complaints", json=body, headers=keyed(fb.desk()))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == loc, r.text
    filed = await fb.file()
    r = await fb.act(filed["id"], "resolve", note="已退款", compensation={"points": 5, "coupon": "10.00"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "compensation", "coupon"], r.text


@pytest.mark.parametrize(("path", "param"), [
    ("/v1/complaints", "member_id"), ("/v1/complaints", "store_id"), ("/v1/comment-book", "store_id"),
    ("/v1/surveys/results", "store_id"), ("/v1/complaints", "assignee"), ("/v1/complaints/queue", "assignee"),
    ("/v1/surveys/sent", "member_id"),
])
async def test_an_empty_id_in_a_filter_is_422_not_taken_for_no_filter(fb, path, param) -> None:
    # Every role alike: an empty id was every store's list for some and "no member" for others.
    r = await fb.client.get(path, params={param: ""}, headers=fb.admin())
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["query", param]


@pytest.mark.parametrize("field", ["ask_nps", "ask_comment", "is_default"])
async def test_a_template_flag_that_is_not_a_json_boolean_is_422(fb, field) -> None:
    # Pydantic's lax mode read "no" or 0 as false, "y" or 1 as true: a template asking no NPS, or
    # made every new survey's default, by a client's mistake.
    before = (await fb.client.get("/v1/surveys/templates", headers=fb.admin())).json()
    for sent in ("no", "off", "false", "1", "t", "y", 0, 1, None):
        body = {"name": "门店满意度", "dimensions": ["service"], field: sent}
        r = await fb.client.post("/v1/surveys/templates", json=body, headers=fb.admin())
        assert r.status_code == 422, (sent, r.text)
        [error] = r.json()["detail"]
        assert error["loc"] == ["body", field] and "true or false" in error["msg"], (sent, error)
    assert (await fb.client.get("/v1/surveys/templates", headers=fb.admin())).json() == before
