"""The desk's search: a card scanned with its holder at the desk opens that customer's page; a
phone, which a household may share, and a search finding none or several stay a list. A card
replaced at the desk finds its customer, and the desk and the customer search say it was replaced."""

from dataclasses import replace

import httpx
import pytest

from tests.support.console import logged_in
from tests.support.identity import MovableClock, gateway_with_stores

pytestmark = pytest.mark.integration

ZHAO = {"id": "m-1", "name": "赵敏", "card_no": "8800000001", "community": "阳光花园"}
QIAN = {"id": "m/2", "name": "钱芳", "card_no": "8800000002", "community": "阳光花园"}


def members_finding(found: list[dict[str, str]], searched: list[dict[str, str]]) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/members", request.url
        searched.append(dict(request.url.params))
        return httpx.Response(200, json={"items": found, "total": len(found)})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://members")


@pytest.fixture
async def gateway(env, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        await logged_in(client, env, "li.fuwutai", "service_desk", store_id="S001")
        yield client


@pytest.mark.parametrize(("customer", "page"), [(ZHAO, "/console/desk/members/m-1"), (QIAN, "/console/desk/members/m%2F2")])
async def test_a_card_scanned_that_one_customer_holds_opens_their_desk_page(gateway, customer, page) -> None:
    searched: list[dict[str, str]] = []
    gateway.app.state.downstream = replace(gateway.app.state.downstream, members=members_finding([customer], searched))
    r = await gateway.get("/console/desk", params={"card_no": f" {customer['card_no']}"})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == page
    assert searched == [{"card_no": customer["card_no"], "limit": "10"}]


@pytest.mark.parametrize(("params", "found"), [
    ({"phone": "13912340001"}, [ZHAO]),  # a phone finding one is still a list: a household may share it
    ({"card_no": "8800000009"}, []),
    ({"card_no": "8800000001"}, [ZHAO, QIAN]),
])
async def test_a_phone_or_a_card_matching_none_or_several_stays_a_list(gateway, params, found) -> None:
    searched: list[dict[str, str]] = []
    gateway.app.state.downstream = replace(gateway.app.state.downstream, members=members_finding(found, searched))
    r = await gateway.get("/console/desk", params=params)
    assert r.status_code == 200, r.text
    results = r.text.split('<table id="desk-results">')[1].split("</table>")[0]
    assert [m["name"] in results for m in (ZHAO, QIAN)] == [m in found for m in (ZHAO, QIAN)]
    if not found:
        assert "没有匹配的客户。" in results
    assert searched == [{**params, "limit": "10"}]


# Members' answer for a card replaced at the desk: the customer, on the card they hold now.
ZHAO_BY_LOST_CARD = {**ZHAO, "card_no": "8800000003", "replaced_card": "8800000001"}


async def test_a_card_replaced_at_the_desk_stays_a_list_saying_so(gateway) -> None:
    searched: list[dict[str, str]] = []
    gateway.app.state.downstream = replace(gateway.app.state.downstream, members=members_finding([ZHAO_BY_LOST_CARD], searched))
    r = await gateway.get("/console/desk", params={"card_no": "8800000001"})
    assert r.status_code == 200, r.text  # not opened straight away: the clerk is to see the note
    results = r.text.split('<table id="desk-results">')[1].split("</table>")[0]
    row = results.split("<tbody>")[1].split("</tr>")[0]
    assert 'href="/console/desk/members/m-1"' in row
    assert '<td>8800000003<br><small class="status-warn replaced-card">卡号 8800000001 已换卡</small></td>' in row, row
    assert searched == [{"card_no": "8800000001", "limit": "10"}]


@pytest.mark.parametrize(("language", "note"), [("zh-CN", "卡号 8800000001 已换卡"), ("en", "Card 8800000001 replaced")])
async def test_the_customer_search_says_the_card_searched_for_was_replaced(gateway, language, note) -> None:
    found = {**ZHAO_BY_LOST_CARD, "phone": None, "tier": "regular", "home_store_id": "S001", "lifetime_spend": "0.00"}
    other = {**QIAN, "phone": None, "tier": "regular", "home_store_id": "S001", "lifetime_spend": "0.00", "replaced_card": None}
    gateway.cookies.set("crm_console_lang", language)
    for items in ([found], [other]):
        gateway.app.state.downstream = replace(gateway.app.state.downstream, members=members_finding(items, []))
        r = await gateway.get("/console/customers", params={"card_no": items[0]["card_no"]})
        assert r.status_code == 200, r.text
        results = r.text.split('<table id="results">')[1].split("</table>")[0]
        card_cell = results.split("<tbody>")[1].split("</td><td>")[1]
        if items == [found]:
            assert card_cell == f'8800000003<br><small class="status-warn replaced-card">{note}</small>', card_cell
        else:  # a card held now says nothing more
            assert card_cell == "8800000002" and "replaced-card" not in results, card_cell
