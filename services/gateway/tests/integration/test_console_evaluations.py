"""The account managers' evaluation page: the period kind chosen on the form and the period shown
in its field go to members together, so switching the kind and pressing Show ranks the period of
that kind, and a period members could not read is refused naming the form's own field."""

from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.console import logged_in
from tests.support.identity import MovableClock, answering, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


@pytest.fixture
async def members(gateway: httpx.AsyncClient) -> AsyncIterator[list[httpx.Request]]:
    """Members answering an evaluation with no managers; records what reaches it."""
    def answer(request: httpx.Request) -> httpx.Response:
        period = request.url.params.get("month") or request.url.params.get("quarter")
        return httpx.Response(200, json={"period": period, "stores": {}})

    async with answering(gateway, "members", answer) as received:
        yield received


def _today() -> tuple[int, int]:
    """The chain's year and month now (the tokens the test logs in with are the real clock's)."""
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    return now.year, now.month


YEAR, MONTH = _today()
QUARTER = (MONTH - 1) // 3 + 1


@pytest.mark.parametrize(("kind", "period", "asked"), [
    ("monthly", "", ("monthly", "month", f"{YEAR}-{MONTH:02d}")),
    ("quarterly", "", ("quarterly", "quarter", f"{YEAR}-Q{QUARTER}")),
    # The month the page showed, with the kind switched to quarterly: its quarter.
    ("quarterly", f"{YEAR}-{MONTH:02d}", ("quarterly", "quarter", f"{YEAR}-Q{QUARTER}")),
    ("quarterly", "2025-02", ("quarterly", "quarter", "2025-Q1")),
    # The quarter the page showed, with the kind switched to monthly: its latest month up to today.
    ("monthly", f"{YEAR}-Q{QUARTER}", ("monthly", "month", f"{YEAR}-{MONTH:02d}")),
    ("monthly", "2025-Q2", ("monthly", "month", "2025-06")),
    ("monthly", f"{YEAR + 1}-Q1", ("monthly", "month", f"{YEAR + 1}-01")),
    ("quarterly", "2025-Q3", ("quarterly", "quarter", "2025-Q3")),
])
async def test_the_period_shown_is_ranked_as_the_kind_chosen(
    gateway: httpx.AsyncClient, env: TestEnv, members: list[httpx.Request], kind: str, period: str, asked: tuple[str, str, str],
) -> None:
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    page = await gateway.get("/console/evaluations", params={"kind": kind, "period": period, "store_id": ""})
    assert page.status_code == 200, page.text[page.text.find("<main"):]
    path, name, value = asked
    assert [(r.url.path, dict(r.url.params)) for r in members] == [(f"/v1/evaluations/managers/{path}", {name: value})]
    assert f'name="period" value="{value}"' in page.text


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "9999-12", "0000-01", "26-11", "2026/11"])
async def test_a_period_members_cannot_read_is_refused_naming_the_forms_field(
    gateway: httpx.AsyncClient, env: TestEnv, members: list[httpx.Request], period: str,
) -> None:
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    page = await gateway.get("/console/evaluations", params={"kind": "monthly", "period": period})
    assert page.status_code == 422
    # The evaluation page again, the period as typed and marked, the reason in its form's message area.
    refusal = page.text.split('<div id="evaluation-message" role="alert" aria-live="polite"><p class="refusal" data-fields="period">')[1]
    assert refusal.split("</p>")[0].startswith("期间（YYYY-MM 或 YYYY-Qn）："), refusal
    assert f'name="period" value="{period}" aria-invalid="true" aria-describedby="evaluation-message" autofocus>' in page.text
    assert members == []


@pytest.mark.parametrize(("kind", "period", "flag_column"), [("monthly", "2025-02", False), ("quarterly", "2025-Q1", True)])
async def test_only_a_quarter_has_the_column_of_its_lowest_manager(
    gateway: httpx.AsyncClient, env: TestEnv, kind: str, period: str, flag_column: bool,
) -> None:
    # Only a quarter flags its lowest manager; a month's page had an empty "Flag" column.
    def answer(request: httpx.Request) -> httpx.Response:
        managers = [{"rank": rank, "manager_id": f"am-{rank}", "manager_name": name, "store_id": "S001",
                     "tracked_customers": 3, "purchases": 4, "spend": "400.00", "average_purchase": "100.00",
                     "new_customers": 1, "average_rank": rank, "new_customers_rank": rank, "score": 2 * rank,
                     "flagged": kind == "quarterly" and rank == 2}
                    for rank, name in ((1, "东经理"), (2, "西经理"))]
        return httpx.Response(200, json={"period": period, "kind": kind, "stores": {"S001": managers}})

    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    async with answering(gateway, "members", answer):
        page = await gateway.get("/console/evaluations", params={"kind": kind, "period": period})
    assert page.status_code == 200, page.text[page.text.find("<main"):]
    table = page.text[page.text.find('<section class="card" data-store="S001">'):]
    header, rows = table.split("</thead>")[0], table.split("<tbody>")[1].split("</tbody>")[0]
    assert ("标记" in header) is flag_column
    assert rows.count("<td") == 2 * (9 if flag_column else 8)
    assert ("本季度末位" in rows) is flag_column
