"""The console's customer page when a service is away: the sections that came back are shown, and
the missing ones say they are not available, as the 360 view's `unavailable` does."""

import httpx
import pytest

from gateway.adapters.clients import Downstream
from tests.support.console import logged_in
from tests.support.identity import MovableClock, gateway_with_stores

pytestmark = pytest.mark.integration


def _service(answer: httpx.Response) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(lambda request: answer), base_url="http://service")


@pytest.fixture
async def gateway(env, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


async def test_with_members_away_the_page_shows_the_other_sections(gateway, env) -> None:
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    gateway.app.state.downstream = Downstream(
        members=_service(httpx.Response(500, json={"detail": "members failed"})),
        points=_service(httpx.Response(200, json={"member_id": "m-1", "balance": 12000, "entries": []})),
        feedback=_service(httpx.Response(200, json=[])),
        campaigns=_service(httpx.Response(200, json={"coupons": [], "messages": []})),
    )
    gateway.cookies.set("crm_console_lang", "en")
    page = await gateway.get("/console/customers/m-1")
    assert page.status_code == 200, page.text
    assert '<span id="balance">12,000</span>' in page.text
    assert 'id="profile"' not in page.text
    # The profile and the purchases are missing, not empty; the coupons came back with none.
    purchases = page.text.split('id="h-purchases"')[1].split("</section>")[0]
    coupons = page.text.split('id="h-coupons"')[1].split("</section>")[0]
    assert "Not available now" in purchases and "None yet." not in purchases
    assert "None yet." in coupons
    # Said by the sections' headings, in words: not the view's names nor the gateway's reasons.
    said = page.text.split('class="refusal" role="status">')[1].split("</p>")[0]
    assert said == ("Profile is not available now: its service does not answer. Try again in a moment. "
                    "Recent purchases is not available now: its service does not answer. Try again in a moment."), said
    gateway.cookies.set("crm_console_lang", "zh-CN")
    chinese = (await gateway.get("/console/customers/m-1")).text
    said = chinese.split('class="refusal" role="status">')[1].split("</p>")[0]
    assert said.startswith("客户资料暂不可用：相应服务没有应答，请稍后再试。") and "answered" not in said, said


async def test_a_customer_outside_the_persons_scope_is_refused_in_one_sentence(gateway, env) -> None:
    """A store manager following a complaint of their store to a walk-in customer of another store:
    every service refuses, each naming its own action; the page says why once, in Chinese, and
    never under the label of the compensation field that happens to be called "points"."""
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")

    def refusing(action: str) -> httpx.AsyncClient:
        detail = f"store managers and desks may only act on the customers of their own store ({action})"
        return _service(httpx.Response(403, json={"detail": detail}))

    gateway.app.state.downstream = Downstream(
        members=refusing("members.member.read"), points=refusing("points.account.read"),
        feedback=refusing("feedback.complaint.read"), campaigns=refusing("campaigns.overview.read"),
    )
    page = await gateway.get("/console/customers/m-1")
    assert page.status_code == 403, page.text
    refusal = page.text.split('<div role="alert" aria-live="polite"><p class="refusal">')[1].split("</p>")[0]
    assert refusal == "您只能为本门店的顾客办理。"


@pytest.mark.parametrize(("language", "shown"), [
    ("zh-CN", ["<td>满意度调查邀请</td><td>已取消 (未同意接收服务提示短信)</td>", "<td>VIP 欢迎</td><td>延后发送 (免打扰时段)</td>",
               "<td>优惠券通知</td><td>已取消 (已达每周上限：近 7 天已发 2 条营销消息（上限 2 条）)</td>",
               "<td>个人优惠清单</td><td>失败 (isv.BUSINESS_LIMIT_CONTROL)</td>"]),
    ("en", ["<td>Survey invitation</td><td>Cancelled (no consent to service tips by SMS)</td>",
            "<td>VIP welcome</td><td>Deferred (quiet hours)</td>"]),
])
async def test_the_messages_say_what_they_were_and_why_they_wait_in_the_persons_language(
    gateway, env, language: str, shown: list[str],
) -> None:
    """Campaigns names each message by its template and says in English why one waits or was
    cancelled; the desk reads both in its own language (a reason not known is shown as written)."""
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")

    def message(template: str, status: str, reason: str | None) -> dict[str, object]:
        return {"id": template, "created_at": "2026-12-01T02:00:00+00:00", "channel": "sms", "template": template,
                "status": status, "reason": reason}

    messages = [message("survey_invitation", "cancelled", "no service_tips_sms consent"),
                message("vip_welcome", "deferred", "quiet hours"),
                message("coupon_offer", "cancelled", "weekly cap: 2 marketing messages in the last 7 days (cap 2)"),
                message("offer_list", "failed", "isv.BUSINESS_LIMIT_CONTROL")]
    gateway.app.state.downstream = Downstream(
        members=_service(httpx.Response(500, json={"detail": "members failed"})),  # away: the other sections show
        points=_service(httpx.Response(200, json={"member_id": "m-1", "balance": 0, "entries": []})),
        feedback=_service(httpx.Response(200, json=[])),
        campaigns=_service(httpx.Response(200, json={"coupons": [], "messages": messages})),
    )
    gateway.cookies.set("crm_console_lang", language)
    page = await gateway.get("/console/customers/m-1")
    assert page.status_code == 200, page.text
    section = page.text.split('id="h-messages"')[1].split("</section>")[0]
    for row in shown:
        assert row in section, section
    assert "survey_invitation" not in section and "service_tips_sms" not in section


async def test_the_points_ledger_says_why_points_moved_in_the_persons_language(gateway, env) -> None:
    """Points writes the reasons it makes in English ("purchase S001/T1"); a Chinese desk reads them
    in Chinese, and a reason staff typed as they typed it."""
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")

    def entry(entry_type: str, points: int, reason: str, booked: str = "2026-12-01T02:00:05+00:00") -> dict[str, object]:
        return {"occurred_at": "2026-12-01T02:00:00+00:00", "booked_at": booked, "entry_type": entry_type, "points": points,
                "balance_after": 100, "reason": reason}

    # The return booked days after the sale it reverses was made (the till's backlog).
    entries = [entry("earn", 52, "purchase S001/T1 (capped at 5000 points a sale)"),
               entry("reverse", -12, "return S001/R1 of sale S001/T1", booked="2026-12-04T09:30:00+00:00"), entry("bonus", 60, "店庆加赠")]
    gateway.app.state.downstream = Downstream(
        members=_service(httpx.Response(500, json={"detail": "members failed"})),
        points=_service(httpx.Response(200, json={"member_id": "m-1", "balance": 100, "entries": entries})),
        feedback=_service(httpx.Response(200, json=[])),
        campaigns=_service(httpx.Response(200, json={"coupons": [], "messages": []})),
    )
    page = await gateway.get("/console/customers/m-1")
    assert page.status_code == 200, page.text
    ledger = page.text.split('id="ledger"')[1].split("</table>")[0]
    for shown in ("<td>消费 store S001/T1（每笔最多积 5000 分）</td>", "<td>退货 store S001/R1（原小票 store S001/T1）</td>", "<td>店庆加赠</td>"):
        assert shown in ledger, ledger
    # Listed as booked, the balance running down the column; an entry booked on another day than
    # its sale was made says when that was (in the chain's zone, Asia/Shanghai).
    assert ledger.count("<td>2026-12-01 10:00:05</td>") == 2, ledger
    assert "<td>2026-12-04 17:30:00<br><small>交易于 2026-12-01 10:00:00</small></td>" in ledger, ledger


def _points_with_gifts(entries: list[dict[str, object]], gifts: httpx.Response) -> tuple[httpx.AsyncClient, list[str]]:
    """Points answering the account with `entries` and its catalogue with `gifts`; the paths asked."""
    asked: list[str] = []

    def points(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path == "/v1/gifts":
            return gifts
        return httpx.Response(200, json={"member_id": "m-1", "balance": 100, "entries": entries})

    return httpx.AsyncClient(transport=httpx.MockTransport(points), base_url="http://points"), asked


LEDGER_OF_GIFTS = [{"occurred_at": "2026-12-01T02:00:00+00:00", "booked_at": "2026-12-01T02:00:00+00:00", "entry_type": entry_type,
                    "points": points, "balance_after": 100, "reason": reason}
                   for entry_type, points, reason in (("redeem", -300, "gift cushion at S002"), ("cancel_redeem", 300, "cancelled gift cushion: 顾客改主意"),
                                                      ("redeem", -500, "gift kettle at S002"))]
CATALOGUE = [{"gift_id": "cushion", "name_zh": "靠枕", "name_en": "Cushion", "prices": {}, "kind": "gift"}]


@pytest.mark.parametrize(("language", "shown"), [
    ("zh-CN", ["<td>在 store S002 兑换赠品 靠枕</td>", "<td>取消赠品 靠枕：顾客改主意</td>", "<td>在 store S002 兑换赠品 kettle</td>"]),
    ("en", ["<td>gift Cushion at store S002</td>", "<td>cancelled gift Cushion: 顾客改主意</td>"]),
])
async def test_the_ledger_names_the_gift_and_the_store_of_a_redemption_from_one_read_of_the_catalogue(
    gateway, env, language: str, shown: list[str],
) -> None:
    """A gift no longer in the catalogue (kettle) is shown by its id; the catalogue is read once for the page."""
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    points, asked = _points_with_gifts(LEDGER_OF_GIFTS, httpx.Response(200, json=CATALOGUE))
    gateway.app.state.downstream = Downstream(
        members=_service(httpx.Response(500, json={"detail": "members failed"})), points=points,
        feedback=_service(httpx.Response(200, json=[])), campaigns=_service(httpx.Response(200, json={"coupons": [], "messages": []})),
    )
    gateway.cookies.set("crm_console_lang", language)
    page = await gateway.get("/console/customers/m-1")
    assert page.status_code == 200, page.text
    ledger = page.text.split('id="ledger"')[1].split("</table>")[0]
    for row in shown:
        assert row in ledger, ledger
    assert asked.count("/v1/gifts") == 1, asked


async def test_with_the_catalogue_away_the_ledger_still_shows_naming_gifts_by_id(gateway, env) -> None:
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    points, _ = _points_with_gifts(LEDGER_OF_GIFTS, httpx.Response(503, json={"detail": "busy"}))
    gateway.app.state.downstream = Downstream(
        members=_service(httpx.Response(500, json={"detail": "members failed"})), points=points,
        feedback=_service(httpx.Response(200, json=[])), campaigns=_service(httpx.Response(200, json={"coupons": [], "messages": []})),
    )
    page = await gateway.get("/console/customers/m-1")
    assert page.status_code == 200, page.text
    assert "<td>在 store S002 兑换赠品 cushion</td>" in page.text.split('id="ledger"')[1].split("</table>")[0]


async def test_a_ledger_naming_no_gift_does_not_read_the_catalogue(gateway, env) -> None:
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    entries = [{**LEDGER_OF_GIFTS[0], "entry_type": "earn", "points": 5, "reason": "purchase S001/T1"}]
    points, asked = _points_with_gifts(entries, httpx.Response(200, json=CATALOGUE))
    gateway.app.state.downstream = Downstream(
        members=_service(httpx.Response(500, json={"detail": "members failed"})), points=points,
        feedback=_service(httpx.Response(200, json=[])), campaigns=_service(httpx.Response(200, json={"coupons": [], "messages": []})),
    )
    page = await gateway.get("/console/customers/m-1")
    assert "<td>消费 store S001/T1</td>" in page.text.split('id="ledger"')[1].split("</table>")[0], page.text
    assert "/v1/gifts" not in asked


def _members_with_contacts(profile: dict, contacts: httpx.Response) -> httpx.AsyncClient:
    def members(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/tracking/members/m-1/records":
            return contacts
        return httpx.Response(200, json={"member": profile, "recent_purchases": []})

    return httpx.AsyncClient(transport=httpx.MockTransport(members), base_url="http://members")


PROFILE = {"id": "m-1", "name": "赵敏", "card_no": "8800000000001", "home_store_id": "S001", "manager_id": "am-017",
           "tier": "vip", "birthday": "1980-12-24", "erased": False, "lifetime_spend": "5000.00", "purchase_count": 1,
           "phone": "13900000001", "phone_masked": False, "community": "阳光花园", "address": "1幢", "created_at": "2026-01-02T03:00:00Z"}


async def test_the_account_manager_reads_the_customers_earlier_contacts_and_what_was_planned(gateway, env) -> None:
    await logged_in(gateway, env, "zhou.am", "account_manager", store_id="S001", account_manager_id="am-017")
    contacts = [{"tracked_on": "2026-12-01", "manager_id": "am-017", "contact": "本人", "method": "home_visit", "rating": 5,
                 "notes": "想要上门回收余料", "next_follow_up_on": "2026-12-08"},
                {"tracked_on": "2026-11-02", "manager_id": "am-gone", "contact": "家属", "method": "phone", "rating": 3,
                 "notes": "", "next_follow_up_on": None}]
    gateway.app.state.downstream = Downstream(
        members=_members_with_contacts(PROFILE, httpx.Response(200, json=contacts)),
        points=_service(httpx.Response(200, json={"member_id": "m-1", "balance": 0, "entries": []})),
        feedback=_service(httpx.Response(200, json=[])),
        campaigns=_service(httpx.Response(200, json={"coupons": [], "messages": []})),
    )
    page = await gateway.get("/console/customers/m-1")
    assert page.status_code == 200, page.text
    table = page.text.split('id="contacts"')[1].split("</table>")[0]
    rows = table.split("<tbody>")[1].split("</tr>")[:2]
    assert "<td>2026-12-01</td><td>zhou.am</td>" in rows[0] and "<td>上门</td>" in rows[0], rows[0]
    assert "想要上门回收余料" in rows[0] and "<td>2026-12-08</td>" in rows[0]
    assert "<td>am-gone</td>" in rows[1] and "<td>电话</td>" in rows[1]

    # members away for the contacts: the page says so and shows the rest.
    gateway.app.state.downstream = Downstream(
        members=_members_with_contacts(PROFILE, httpx.Response(503, json={"detail": "busy"})),
        points=_service(httpx.Response(200, json={"member_id": "m-1", "balance": 0, "entries": []})),
        feedback=_service(httpx.Response(200, json=[])),
        campaigns=_service(httpx.Response(200, json={"coupons": [], "messages": []})),
    )
    page = await gateway.get("/console/customers/m-1")
    assert page.status_code == 200, page.text
    assert "暂不可用" in page.text.split('id="contacts"')[1].split("</table>")[0]
    assert '<span id="balance">0</span>' in page.text


@pytest.mark.parametrize(("manager_id", "linked"), [("am-017", True), ("am-other", False)])
async def test_the_customers_own_account_manager_is_led_to_record_a_contact(gateway, env, manager_id, linked) -> None:
    await logged_in(gateway, env, "zhou.am", "account_manager", store_id="S001", account_manager_id="am-017")
    gateway.app.state.downstream = Downstream(
        members=_members_with_contacts({**PROFILE, "manager_id": manager_id}, httpx.Response(200, json=[])),
        points=_service(httpx.Response(200, json={"member_id": "m-1", "balance": 0, "entries": []})),
        feedback=_service(httpx.Response(200, json=[])),
        campaigns=_service(httpx.Response(200, json={"coupons": [], "messages": []})),
    )
    page = await gateway.get("/console/customers/m-1")
    assert page.status_code == 200, page.text
    assert ('href="/console/tracking?member_id=m-1#form">记录联系</a>' in page.text) is linked
    assert "<td>1980-12-24</td>" in page.text.split('id="profile"')[1].split("</table>")[0]


async def test_a_search_finding_more_than_a_page_leads_to_the_rest(gateway, env) -> None:
    # 120 customers of a community: the caption said 120 found and only the first 50 were reachable.
    asked: list[dict[str, str]] = []

    def members(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        asked.append(params)
        start, limit = int(params["offset"]), int(params["limit"])
        items = [{"id": f"m-{n}", "name": f"顾客{n}", "card_no": f"88000000{n:05d}", "phone": None, "community": "幸福里",
                  "tier": "regular", "home_store_id": "S001", "lifetime_spend": "0.00"} for n in range(start, min(start + limit, 120))]
        return httpx.Response(200, json={"items": items, "total": 120, "limit": limit, "offset": start})

    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    gateway.app.state.downstream = Downstream(
        members=httpx.AsyncClient(transport=httpx.MockTransport(members), base_url="http://service"),
        points=_service(httpx.Response(200, json={})), feedback=_service(httpx.Response(200, json=[])),
        campaigns=_service(httpx.Response(200, json={})),
    )
    gateway.cookies.set("crm_console_lang", "en")
    first = await gateway.get("/console/customers", params={"community": "幸福里"})
    assert first.status_code == 200 and "顾客49<" in first.text and "顾客50<" not in first.text
    assert "Page 1 of 3" in first.text and 'rel="prev"' not in first.text
    following = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    last = await gateway.get(following.replace("page=2", "page=3"))
    assert "顾客119<" in last.text and "顾客100<" in last.text and "顾客99<" not in last.text
    assert "Page 3 of 3" in last.text and 'rel="next"' not in last.text
    assert [(a["community"], a["offset"]) for a in asked] == [("幸福里", "0"), ("幸福里", "100")]
    for bad in ("0", "x", "20001"):
        refused = await gateway.get("/console/customers", params={"community": "幸福里", "page": bad})
        assert refused.status_code == 422 and "a page number from 1 to 20000" in refused.text, refused.text


def _sale(pos_txn_id: str, occurred_at: str, total: str, discount: str, returns: list[dict[str, object]]) -> dict[str, object]:
    return {"store_id": "S001", "pos_txn_id": pos_txn_id, "occurred_at": occurred_at, "total": total, "discount": discount,
            "payment": "cash", "lines": [], "returns": returns}


def _return(refund_id: str, store_id: str, occurred_at: str, amount: str, refunded: str) -> dict[str, object]:
    return {"store_id": store_id, "refund_id": refund_id, "occurred_at": occurred_at, "amount": amount, "refunded": refunded,
            "lines": []}


# Newest first, as members answers: a sale with a partial return made at another store, a
# discounted sale whose return keeps its share of the discount, and a sale with no return.
RECENT_PURCHASES = [
    _sale("T3", "2026-12-03T02:00:00+00:00", "138.52", "0.00",
          [_return("R-0001", "S002", "2026-12-05T06:30:00+00:00", "45.00", "45.00")]),
    _sale("T2", "2026-12-02T02:00:00+00:00", "200.00", "20.00",
          [_return("R-0002", "S001", "2026-12-02T08:00:00+00:00", "50.00", "45.00")]),
    _sale("T1", "2026-12-01T02:00:00+00:00", "100.00", "0.00", []),
]


@pytest.mark.parametrize(("language", "returned", "net"), [("zh-CN", "退货", "退货后"), ("en", "return", "After returns")])
async def test_each_recent_purchase_shows_its_returns_and_what_it_came_to_after_them(
    gateway, env, language: str, returned: str, net: str,
) -> None:
    """The profile's spend counts what was paid less what returns gave back (138.52 - 45.00 here);
    the list showed each sale at its full amount with no sign of its returns, and disagreed."""
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    overview = {"member": {**PROFILE, "lifetime_spend": "328.52", "purchase_count": 3}, "recent_purchases": RECENT_PURCHASES}
    gateway.app.state.downstream = Downstream(
        members=_service(httpx.Response(200, json=overview)),
        points=_service(httpx.Response(200, json={"member_id": "m-1", "balance": 0, "entries": []})),
        feedback=_service(httpx.Response(200, json=[])),
        campaigns=_service(httpx.Response(200, json={"coupons": [], "messages": []})),
    )
    gateway.cookies.set("crm_console_lang", language)
    page = await gateway.get("/console/customers/m-1")
    assert page.status_code == 200, page.text
    rows = [r.strip() for r in page.text.split('id="purchases"')[1].split("<tbody>")[1].split("</tbody>")[0].split("</tr>")[:-1]]
    # Each return beneath its sale, when and where it was made (in the chain's zone), by its refund
    # id as level 3 of the information base names it; then what the sale came to after it.
    assert rows[0].endswith('<td class="num">¥138.52</td><td class="num">¥0.00</td><td class="num">¥138.52</td>'), rows[0]
    assert rows[1] == (f'<tr class="status-warn return"><td>2026-12-05 14:30:00</td><td>S002</td><td>T3 / {returned} R-0001</td>'
                       '<td class="num">-¥45.00</td><td class="num">¥0.00</td><td class="num">-¥45.00</td>'), rows[1]
    assert rows[2] == (f'<tr class="net"><td colspan="2"></td><th scope="row">{net}</th>'
                       '<td class="num">¥93.52</td><td class="num">¥0.00</td><td class="num">¥93.52</td>'), rows[2]
    # A discounted sale: the return gives back 45.00 of its 50.00, keeping 5.00 of the discount.
    assert rows[3].endswith('<td class="num">¥200.00</td><td class="num">¥20.00</td><td class="num">¥180.00</td>'), rows[3]
    assert f"<td>T2 / {returned} R-0002</td>" in rows[4]
    assert rows[4].endswith('<td class="num">-¥50.00</td><td class="num">-¥5.00</td><td class="num">-¥45.00</td>'), rows[4]
    assert rows[5].endswith(f'<th scope="row">{net}</th><td class="num">¥150.00</td><td class="num">¥15.00</td><td class="num">¥135.00</td>'), rows[5]
    # A sale without returns is its one row: no return line, no net after returns.
    assert "<td>T1</td>" in rows[6] and len(rows) == 7, rows
    assert rows[6].endswith('<td class="num">¥100.00</td><td class="num">¥0.00</td><td class="num">¥100.00</td>'), rows[6]
    # What the rows were paid, net of returns, adds up to the profile's spend.
    assert "¥328.52" in page.text.split('id="profile"')[1].split("</table>")[0]
