"""An admin books a bulk bonus on the console against real points and gateway apps: card numbers
pasted as a spreadsheet's column start one job however often the form is sent, its page shows each
customer's result and hands on points' CSV; a card no account holds is refused on the form's box
and nothing is booked; another role is refused the pages."""

import re

import pytest

from shared.auth import Role
from tests.support.audience import registered
from tests.support.console import csrf_of, logged_in
from tests.support.members import deliver_batch
from tests.support.platform import TestEnv
from tests.support.points_console import gateway_over_points
from tests.support.polling import eventually

pytestmark = pytest.mark.integration
CARDS = ("8800000000011", "8800000000022")


@pytest.fixture
async def stack(env: TestEnv, database_factory):
    async with gateway_over_points(env, database_factory) as (gw, pts):
        await deliver_batch(pts, [registered("m-1", card_no=CARDS[0]), registered("m-2", card_no=CARDS[1])])
        yield gw, pts


def bonus_form(html: str, **fields: str) -> dict[str, str]:
    key = re.search(r'<form id="bonus-form".*?name="idempotency_key" value="([0-9a-f]{32})"', html, re.S)
    assert key, "the form has no key of its own"
    return {"csrf": csrf_of(html), "idempotency_key": key.group(1), "bonus_points": "200", "bonus_reason": "城东店周年庆",
            "card_nos": f" {CARDS[0]}\r\n\r\n{CARDS[1]}\r\n{CARDS[0]}\r\n", "confirm": "yes", **fields}


async def balance(pts, member_id: str, env: TestEnv) -> int:
    return int((await pts.get(f"/v1/accounts/{member_id}", headers=env.auth(Role.ADMIN))).json()["balance"])


async def test_an_admin_books_a_bulk_bonus_once_however_often_the_form_is_sent(stack, env) -> None:
    gw, pts = stack
    await logged_in(gw, env, "qian.admin", "admin")
    shown = await gw.get("/console/bonuses")
    assert shown.status_code == 200 and 'href="/console/bonuses"' in shown.text and "暂无。" in shown.text
    form = bonus_form(shown.text)
    answers = [await gw.post("/console/bonuses", data=form) for _ in range(2)]  # a double click
    assert [r.status_code for r in answers] == [303, 303], [r.text for r in answers]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    jobs = (await pts.get("/v1/bulk-bonuses", headers=env.auth(Role.ADMIN))).json()
    assert [(j["total"], j["points"], j["reason"]) for j in jobs] == [(2, 200, "城东店周年庆")]

    async def done() -> str | None:
        page = await gw.get(answers[0].headers["location"])
        return page.text if "已于" in page.text and "完成" in page.text else None

    page = await eventually(done, timeout=20, what="the job done")
    assert "批量奖励：200 积分，城东店周年庆" in page
    assert re.search(r'<td id="bonus-booked">2</td>', page)
    assert page.count("已发放</td><td>200 积分</td>") == 2
    # Each customer by their card, linked to their page.
    assert f'<a href="/console/customers/m-1">{CARDS[0]}</a>' in page and f'<a href="/console/customers/m-2">{CARDS[1]}</a>' in page
    assert await balance(pts, "m-1", env) == 200 == await balance(pts, "m-2", env)
    listed = await gw.get("/console/bonuses")
    assert "qian.admin" in listed.text and "城东店周年庆" in listed.text
    # In English too the job's state and each customer's result are words, not points' codes
    # ("done", "booked") shown as they come.
    gw.cookies.set("crm_console_lang", "en")
    english = (await gw.get(answers[0].headers["location"])).text
    status = re.search(r'<td id="bonus-status">(.*?)</td>', english, re.S)
    assert status and re.fullmatch(r"Finished \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", status.group(1)), status
    assert english.count("<td>Bonus booked</td><td>200 points</td>") == 2
    assert re.search(r'<td>Finished \d{4}-', (await gw.get("/console/bonuses")).text)
    gw.cookies.delete("crm_console_lang")

    csv = await gw.get(answers[0].headers["location"] + "/export")
    assert csv.status_code == 200 and csv.text.startswith("\ufeff会员 Member") and "m-1" in csv.text
    assert "attachment" in csv.headers["content-disposition"]


async def test_a_card_no_account_holds_is_refused_on_its_box_and_nothing_is_booked(stack, env) -> None:
    gw, pts = stack
    await logged_in(gw, env, "qian.admin", "admin")
    form = bonus_form((await gw.get("/console/bonuses")).text, card_nos=f"{CARDS[0]}\n8899999999999")
    r = await gw.post("/console/bonuses", data=form, headers={"HX-Request": "true"})
    assert r.status_code == 422, r.text
    assert 'data-fields="card_nos"' in r.text and "没有客户的积分账户持有 8899999999999" in r.text
    # A card points refuses for its form is named as pasted, not by its place in the list counted from 0.
    mistyped = bonus_form((await gw.get("/console/bonuses")).text, card_nos=f"123\n{CARDS[0]}\n88-00")
    r = await gw.post("/console/bonuses", data=mistyped, headers={"HX-Request": "true"})
    assert r.status_code == 422 and 'data-fields="card_nos.0 card_nos.2"' in r.text, r.text  # each marks the box
    assert "卡号 123：至少 4 个字符" in r.text and "卡号 88-00：" in r.text, r.text
    for nothing in ("0", "-5"):  # below the bound, said so: not "a whole number" for the minus sign
        zero = await gw.post("/console/bonuses", data=bonus_form((await gw.get("/console/bonuses")).text, bonus_points=nothing),
                             headers={"HX-Request": "true"})
        assert zero.status_code == 422 and 'data-fields="bonus_points"' in zero.text and "每位客户的积分：应大于 0" in zero.text
    # More digits than Python reads as an integer: the box's refusal, not a server error.
    huge = await gw.post("/console/bonuses", data=bonus_form((await gw.get("/console/bonuses")).text, bonus_points="9" * 5000),
                         headers={"HX-Request": "true"})
    assert huge.status_code == 422 and 'data-fields="bonus_points"' in huge.text, huge.text
    unticked = {k: v for k, v in bonus_form((await gw.get("/console/bonuses")).text).items() if k != "confirm"}
    refused = await gw.post("/console/bonuses", data=unticked, headers={"HX-Request": "true"})
    # A request to tick the box, not the value it sends ("yes").
    assert refused.status_code == 422 and 'data-fields="confirm"' in refused.text and "确认：请勾选确认框" in refused.text, refused.text
    assert (await pts.get("/v1/bulk-bonuses", headers=env.auth(Role.ADMIN))).json() == []
    assert await balance(pts, "m-1", env) == 0


async def test_marketing_is_refused_the_pages(stack, env) -> None:
    gw, _ = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    assert (await gw.get("/console/bonuses")).status_code == 403
    assert 'href="/console/bonuses"' not in (await gw.get("/console")).text
