"""The console's downloads as Excel workbooks beside their CSV: the gift register the gateway writes
itself, and the information base members writes (the gateway asks for the workbook and passes it on)."""

import io
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from shared.reports import XLSX_MEDIA_TYPE, Column, ReportFormat, render
from tests.support.console import logged_in
from tests.support.identity import MovableClock, answering, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration

CARD = "8800000000123"  # 13 digits: what Excel shows as 8.8E+12 when it opens the CSV


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


def _entry(redemption_id: str, points: int, kept: int, status: str) -> dict[str, Any]:
    return {"redemption_id": redemption_id, "member_id": "m-1", "gift_id": "cushion", "kind": "physical",
            "coupon_template_id": None, "store_id": "S001", "channel": "desk", "points": points, "points_kept": kept,
            "status": status, "staff_id": "stf_1", "redeemed_at": "2026-12-01T02:00:00Z", "handed_over_at": None,
            "handed_over_by": None, "cancelled_at": None, "cancelled_by": None, "cancel_reason": None}


def _points(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/v1/gift-register":
        return httpx.Response(200, json=[_entry("r1", 10000, 10000, "reserved"), _entry("r2", 3000, 0, "cancelled")])
    assert request.url.path == "/v1/gifts"
    return httpx.Response(200, json=[{"gift_id": "cushion", "name_zh": "靠垫", "name_en": "Cushion", "points": 5000}])


def _members(request: httpx.Request) -> httpx.Response:
    assert request.url.path == "/v1/members/m-1"
    return httpx.Response(200, json={"id": "m-1", "name": "=钱芳", "card_no": CARD})


async def test_the_gift_register_downloads_as_a_workbook_from_its_excel_link(gateway, env) -> None:
    await logged_in(gateway, env, "li.desk", "service_desk", store_id="S001")
    async with answering(gateway, "points", _points), answering(gateway, "members", _members):
        page = await gateway.get("/console/desk/gift-register", params={"from": "2026-12-01"})
        assert page.status_code == 200, page.text
        link = "/console/desk/gift-register/export?store_id=S001&amp;from=2026-12-01&amp;to=2026-12-01&amp;format=xlsx"
        assert f'<a href="{link}">下载 Excel</a>' in page.text
        r = await gateway.get(link.replace("&amp;", "&"))
        refused = await gateway.get("/console/desk/gift-register/export", params={"from": "2026-12-01", "format": "pdf"})
    assert r.status_code == 200 and r.headers["content-type"] == XLSX_MEDIA_TYPE
    assert r.headers["content-disposition"] == 'attachment; filename="gift-register-S001-2026-12-01-2026-12-01.xlsx"'
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None and sheet.title == "赠品发放登记 S001"  # the page's title, in the person's language
    assert [c.value for c in sheet[1]][:4] == ["时间", "客户", "赠品", "积分"]
    when, customer, gift, points = sheet[2][:4]
    assert (gift.value, gift.data_type) == ("靠垫", "s")
    assert (when.value, when.data_type) == ("2026-12-01 10:00", "s")
    # A name a customer typed with "=" first stays their name, and the card number all its digits.
    assert (customer.value, customer.data_type) == (f"=钱芳 ({CARD})", "s")
    assert (points.value, points.data_type) == (10000, "n")
    assert sheet["A4"].value == "合计 (2)" and sheet["F4"].value == 10000  # the points kept, headed as the headings are
    assert refused.status_code == 422 and "format" in refused.text


async def test_the_information_base_asks_members_for_the_workbook_and_passes_it_on(gateway, env) -> None:
    def members(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("format") != "xlsx":  # the page itself
            return httpx.Response(200, json={"items": [], "total": 0, "limit": 200, "offset": 0, "filters": {}})
        made = render(ReportFormat.XLSX, title="小区排名 Communities ranked", columns=[Column("card_no", "卡号 Card no.")],
                      rows=[{"card_no": CARD}], json_body=None, filename="communities")
        return httpx.Response(200, content=bytes(made.body), headers=dict(made.headers))

    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    async with answering(gateway, "members", members) as received:
        page = await gateway.get("/console/infobase", params={"store_id": "S001"})
        assert page.status_code == 200, page.text
        assert '<a href="/console/infobase/export?level=communities&amp;store_id=S001&amp;format=xlsx">下载 Excel</a>' in page.text
        r = await gateway.get("/console/infobase/export", params={"level": "communities", "store_id": "S001", "format": "xlsx"})
    assert r.status_code == 200 and r.headers["content-type"] == XLSX_MEDIA_TYPE
    assert r.headers["content-disposition"] == 'attachment; filename="communities.xlsx"'
    assert received[-1].url.params["format"] == "xlsx" and received[-1].url.params["store_id"] == "S001"
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None and (sheet["A2"].value, sheet["A2"].data_type) == (CARD, "s")


async def test_a_download_of_a_level_without_its_community_or_customer_names_what_it_lacks_in_words(gateway, env) -> None:
    def members(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"nothing is asked of members: {request.url}")

    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    async with answering(gateway, "members", members):
        for language, level, shown in (("zh-CN", "customers", "小区：此级别必须填写"), ("zh-CN", "purchases", "客户：此级别必须填写"),
                                       ("en", "customers", "Community: required for this level"),
                                       ("en", "purchases", "Customer: required for this level")):
            gateway.cookies.set("crm_console_lang", language)
            r = await gateway.get("/console/infobase/export", params={"level": level})
            assert r.status_code == 422 and shown in r.text, r.text
            assert "id：" not in r.text and "id: " not in r.text
    gateway.cookies.delete("crm_console_lang")
