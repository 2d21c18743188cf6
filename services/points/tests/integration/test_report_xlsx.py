"""The gift register as an Excel workbook: customers' card numbers stay text, points are numbers."""

import io

import pytest
from openpyxl import load_workbook

from shared.auth import Role

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def test_the_gift_register_downloads_as_a_workbook_with_its_totals(pts, env) -> None:
    await pts.apply(pts.registered("g9"), pts.sale("g9", "50000.00"))
    await pts.stock("cushion", "S001", 1)
    pts.members.people["g9"] = {"name": "王芳", "card_no": "8800000000099"}
    await pts.redeem("g9", "cushion")
    r = await pts.client.get("/v1/gift-register?store_id=S001&from=2020-01-01&to=2099-12-31&format=xlsx",
                             headers=env.auth(Role.STORE_MANAGER, store_id="S001"))
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    assert r.headers["content-disposition"] == 'attachment; filename="gift-register-S001-2020-01-01-2099-12-31.xlsx"'
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    by = {c.value: i for i, c in enumerate(sheet[1])}
    line, total = sheet[2], sheet[3]
    assert (line[by["会员 Member"]].value, line[by["会员 Member"]].data_type) == ("王芳 (8800000000099)", "s")
    assert (line[by["积分 Points"]].value, line[by["积分 Points"]].data_type) == (10_000, "n")
    assert total[0].value == "合计 Total (1)" and total[by["实扣积分 Points kept"]].value == 10_000
