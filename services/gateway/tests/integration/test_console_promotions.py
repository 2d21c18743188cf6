"""Marketing keeps the promotion list on the console against real campaigns and gateway apps: a
promotion listed once however often the form is sent, its terms and state shown; campaigns'
refusal of a part shown on its box; withdrawn behind a box to tick, twice being once; this period's
offer lists built now, and a second click told they were built already; a role outside marketing
refused the page."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.campaigns import CampaignsDriver
from tests.support.console import csrf_of, logged_in
from tests.support.marketing_console import gateway_over_campaigns
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def stack(env: TestEnv, database_factory):
    async with gateway_over_campaigns(env, database_factory) as (gw, cmp):
        yield gw, cmp


def local(moment: datetime) -> str:
    """As a datetime-local box sends it: the chain's wall-clock time."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def promotion_form(html: str, **fields: str) -> dict[str, str]:
    key = re.search(r'<form id="promotion-form".*?name="idempotency_key" value="([0-9a-f]{32})"', html, re.S)
    assert key, "the form has no key of its own"
    now = datetime.now(UTC)
    return {"csrf": csrf_of(html), "idempotency_key": key.group(1), "promotion_title": "乳制品 8折", "promotion_sku": "", "promotion_category": "乳制品",
            "promotion_price": "", "regular_price": "", "amount_off": "", "percent_off": "20", "max_discount": "5",
            "valid_from": local(now - timedelta(hours=1)), "valid_until": local(now + timedelta(days=7)), "promotion_priority": "100", **fields}


async def listed(cmp: CampaignsDriver) -> list[dict]:
    return list((await cmp.client.get("/v1/promotions", headers=cmp.marketing())).json())


async def test_marketing_lists_a_promotion_once_however_often_the_form_is_sent(stack, env) -> None:
    gw, cmp = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    shown = await gw.get("/console/promotions")
    assert shown.status_code == 200, shown.text
    assert 'href="/console/promotions"' in shown.text and "新增促销商品" in shown.text
    form = promotion_form(shown.text)

    answers = [await gw.post("/console/promotions", data=form) for _ in range(2)]  # a double click
    assert [r.status_code for r in answers] == [303, 303], [r.text for r in answers]
    [made] = await listed(cmp)
    assert made["spec"]["category"] == "乳制品" and made["spec"]["percent_off"] == "20" and made["spec"]["sku"] is None
    assert answers[0].headers["location"] == answers[1].headers["location"] == f"/console/promotions?done=listed#promotion-{made['id']}"

    page = await gw.get(answers[0].headers["location"])
    assert "已加入促销清单。" in page.text
    row = re.search(rf'<tr id="promotion-{made["id"]}">(.*?)</tr>', page.text, re.S).group(1)
    assert "品类 乳制品" in row and "优惠 20%，最多 ¥5.00" in row and '<span class="badge">生效中</span>' in row
    # Each row's button says which promotion it takes off, for whoever tabs through a column of them.
    assert '撤下<span class="visually-hidden"> 乳制品 8折</span></button>' in row
    assert "zhao.shichang" in row


async def test_a_category_of_the_catalogue_is_shown_in_the_page_s_language(stack, env) -> None:
    gw, cmp = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    sent = await gw.post("/console/promotions", data=promotion_form((await gw.get("/console/promotions")).text,
                                                                     promotion_category="snacks", promotion_title="零食 9折"))
    assert sent.status_code == 303, sent.text
    [made] = await listed(cmp)
    row = re.search(rf'<tr id="promotion-{made["id"]}">(.*?)</tr>', (await gw.get("/console/promotions")).text, re.S).group(1)
    assert "品类 零食" in row and "snacks" not in row


async def test_a_promotion_s_end_is_shown_as_the_last_second_it_is_in_force(stack, env) -> None:
    """A promotion until midnight of 1 January is in force to 23:59:59 on 31 December, the last
    second its offers' coupons are shown valid until on a customer's page."""
    gw, cmp = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    form = promotion_form((await gw.get("/console/promotions")).text, valid_from=local(cmp.clock.now - timedelta(hours=1)),
                          valid_until="2027-01-01T00:00")
    assert (await gw.post("/console/promotions", data=form)).status_code == 303
    [made] = await listed(cmp)

    row = re.search(rf'<tr id="promotion-{made["id"]}">(.*?)</tr>', (await gw.get("/console/promotions")).text, re.S).group(1)
    assert "<td>2026-12-31 23:59:59</td>" in row and "2027-01-01 00:00:00" not in row, row


@pytest.mark.parametrize(("fields", "marked", "says"), [
    # Both boxes, or neither: said for what the form sent, on the SKU's box.
    ({"promotion_sku": "6901234567890"}, "promotion_sku", "商品编码（或填品类）：商品编码和品类只填其中一项"),
    ({"promotion_category": ""}, "promotion_sku", "商品编码（或填品类）：请填写商品编码或品类"),
    ({"max_discount": ""}, "max_discount", "最多减免（元）：折扣须填写最多优惠金额，其他方式不填"),
    ({"promotion_price": "9.90", "percent_off": "", "max_discount": ""}, "promotion_price", "促销价只适用于单个商品"),
    ({"valid_until": local(datetime.now(UTC) - timedelta(days=1))}, "valid_until", "有效期至：须晚于开始时间"),
    ({"promotion_category": "乳" * 65}, "promotion_category", "品类（或填商品编码）"),
    ({"valid_from": "tomorrow"}, "valid_from", "有效期自"),
])
async def test_what_campaigns_refuses_is_shown_on_its_box(stack, env, fields, marked, says) -> None:
    gw, cmp = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    form = promotion_form((await gw.get("/console/promotions")).text, **fields)
    r = await gw.post("/console/promotions", data=form, headers={"HX-Request": "true"})
    assert r.status_code == 422, r.text
    assert says in r.text, r.text
    if marked:
        assert f'data-fields="{marked}"' in r.text, r.text
    assert await listed(cmp) == []


async def test_a_promotion_is_withdrawn_behind_a_box_twice_being_once(stack, env) -> None:
    gw, cmp = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    page = await gw.get("/console/promotions")
    assert (await gw.post("/console/promotions", data=promotion_form(page.text))).status_code == 303
    [made] = await listed(cmp)
    address = f"/console/promotions/{made['id']}/withdraw"
    unticked = await gw.post(address, data={"csrf": csrf_of(page.text)}, headers={"HX-Request": "true"})
    assert unticked.status_code == 422 and (await listed(cmp))[0]["withdrawn_at"] is None
    answers = [await gw.post(address, data={"csrf": csrf_of(page.text), "confirm": "yes"}) for _ in range(2)]
    assert [r.status_code for r in answers] == [303, 303]
    [withdrawn] = await listed(cmp)
    assert withdrawn["withdrawn_at"] is not None
    shown = await gw.get(answers[0].headers["location"])
    row = re.search(rf'<tr id="promotion-{made["id"]}">(.*?)</tr>', shown.text, re.S).group(1)
    assert "撤下" in row and "生效中" not in row and "/withdraw" not in row


async def test_this_period_s_lists_are_built_once(stack, env) -> None:
    gw, cmp = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    page = await gw.get("/console/promotions")
    empty = await gw.post("/console/offer-lists", data={"csrf": csrf_of(page.text)}, headers={"HX-Request": "true"})
    assert empty.status_code == 409 and "促销清单中目前没有生效的商品，无可提供的优惠。" in empty.text
    # In force at campaigns' own time, when it builds the round.
    window = {"valid_from": local(cmp.clock.now - timedelta(days=1)), "valid_until": local(cmp.clock.now + timedelta(days=14))}
    assert (await gw.post("/console/promotions", data=promotion_form(page.text, **window))).status_code == 303
    first = await gw.post("/console/offer-lists", data={"csrf": csrf_of(page.text)})
    assert first.status_code == 303, first.text
    assert first.headers["location"] == "/console/promotions?done=built#offer-lists"
    second = await gw.post("/console/offer-lists", data={"csrf": csrf_of(page.text)})
    assert second.headers["location"] == "/console/promotions?done=built_before#offer-lists"
    shown = await gw.get(second.headers["location"])
    assert "本期优惠清单此前已生成。" in shown.text
    assert len(re.findall(r'<td><a href="/console/campaigns/[^"]+">效果</a></td>', shown.text)) == 1
    # The round's end is exclusive (the next period's first moment): shown as its last second.
    [listed] = (await cmp.client.get("/v1/offer-lists", headers=cmp.marketing())).json()
    last = datetime.fromisoformat(listed["ends_at"]) - timedelta(seconds=1)
    assert f"<td>{last.astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M:%S}</td>" in shown.text


async def test_an_operator_is_refused_the_page_and_its_forms(stack, env) -> None:
    gw, cmp = stack
    await logged_in(gw, env, "op.zhang", "operator")
    r = await gw.get("/console/promotions")
    assert r.status_code == 403
    home = await gw.get("/console")
    assert 'href="/console/promotions"' not in home.text
    # A form made up outside the page is refused too: campaigns decides, with the person's token.
    made_up = {"csrf": csrf_of(home.text), "idempotency_key": "a" * 32, "promotion_title": "乳制品 8折",
               "promotion_category": "乳制品", "amount_off": "2", "valid_from": "2026-12-01T08:00", "valid_until": "2026-12-31T08:00"}
    sent = await gw.post("/console/promotions", data=made_up)
    assert sent.status_code == 403 and await listed(cmp) == []
    built = await gw.post("/console/offer-lists", data={"csrf": csrf_of(home.text)})
    assert built.status_code == 403
    assert (await cmp.client.get("/v1/offer-lists", headers=cmp.marketing())).json() == []
