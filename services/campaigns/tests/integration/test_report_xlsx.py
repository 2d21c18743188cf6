"""A campaign's results as an Excel workbook, beside its CSV: the measures' keys as text, the
figures as numbers."""

import io

import pytest
from openpyxl import load_workbook

from tests.support.factories import keyed

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

RULE = {"field": "community", "op": "in", "value": ["C1"]}
TIP = {"template": "service_tip", "params": {"tip": "本周六延长营业至22点"}}


async def test_the_results_download_as_a_workbook(cmp) -> None:
    made = await cmp.client.post("/v1/segments", json={"name": "C1", "rule": RULE}, headers=cmp.marketing())
    assert made.status_code == 201, made.text
    made = await cmp.client.post("/v1/campaigns", json={"name": "Win them back", "kind": "one_off",
                                                         "segment_id": made.json()["id"], "message": TIP},
                                 headers=keyed(cmp.marketing()))
    assert made.status_code == 201, made.text
    campaign_id = made.json()["id"]
    r = await cmp.client.get(f"/v1/campaigns/{campaign_id}/results.xlsx", headers=cmp.marketing())
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    assert r.headers["content-disposition"] == f'attachment; filename="campaign-{campaign_id}-results.xlsx"'
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    assert [c.value for c in sheet[1]][:3] == ["指标 Measure", "触达组 Treatment", "对照组 Control"]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert (rows["members"][1].value, rows["members"][1].data_type) == (0, "n")
    cost = rows["discount_cost"]
    assert (cost[0].data_type, cost[1].value, cost[1].data_type, cost[1].number_format) == ("s", 0, "n", "0.00")
    assert (await cmp.client.get(f"/v1/campaigns/{campaign_id}/results.xlsx")).status_code == 401
