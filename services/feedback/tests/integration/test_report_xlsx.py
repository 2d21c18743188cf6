"""Survey results as an Excel workbook: the month stays the text "2026-11" (a CSV opened in Excel
turns it into a date), the counts and rates are numbers."""

import io

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def test_the_results_download_as_a_workbook(fb) -> None:
    await fb.register("x1", "S001")
    complaint = await fb.file(member_id="x1", store_id="S001", headers=fb.desk("S001"))
    await fb.ok(complaint["id"], "acknowledge", headers=fb.desk("S001"))
    await fb.ok(complaint["id"], "resolve", headers=fb.desk("S001"), note="ok")  # the survey's invitation
    r = await fb.client.get("/v1/surveys/results", params={"format": "xlsx"}, headers=fb.admin())
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    assert r.headers["content-disposition"] == 'attachment; filename="survey-results.xlsx"'
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    store, month, invitations, responses, rate = sheet[2][:5]
    assert [(c.value, c.data_type) for c in (store, month)] == [("S001", "s"), ("2026-11", "s")]
    assert [(c.value, c.data_type) for c in (invitations, responses)] == [(1, "n"), (0, "n")]
    assert (rate.value, rate.data_type, rate.number_format) == (0, "n", "0.0")
