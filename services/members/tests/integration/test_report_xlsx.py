"""A members report as an Excel workbook: the same lines as its CSV, each cell typed by what it is."""

import io

import pytest
from openpyxl import load_workbook

from shared.auth import Role
from tests.support.factories import line
from tests.support.members import deliver_sale, register

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def test_a_purchase_list_downloads_as_a_workbook_with_codes_as_text_and_amounts_as_numbers(members, env) -> None:
    customer = await register(members, env, name="张伟")
    await deliver_sale(members, card_no=customer["card_no"], lines=[line(sku="0690123456789", qty="2", unit_price="39.90")])
    r = await members.get(f"/v1/infobase/members/{customer['id']}/purchases", params={"format": "xlsx"},
                          headers=env.auth(Role.ADMIN))
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    assert r.headers["content-disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None and sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["时间 Time", "类型 Type", "门店 Store"]
    sale = {h: c for h, c in zip(header, sheet[2], strict=True)}
    sku = sale["商品编码 SKU"]
    assert (sku.value, sku.data_type) == ("0690123456789", "s")  # a 13-digit code keeps its leading zero
    assert (sale["门店 Store"].value, sale["门店 Store"].data_type) == ("S001", "s")
    amount = sale["金额 Amount (CNY)"]
    assert (amount.value, amount.data_type, amount.number_format) == (79.8, "n", "0.00")
    assert sheet.cell(3, 1).value == "合计 Total (1)" and sheet.cell(3, len(header)).value == 79.8
