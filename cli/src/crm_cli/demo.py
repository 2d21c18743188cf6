"""Demo data: the chain's three stores, their account managers, a few hundred members in real
communities, three months of sales (each member shopping on their own habits) and some returns,
tracking contacts, complaints, a value analytics run and a win-back coupon campaign with its results, through the public APIs exactly as
POS systems, staff and marketing would send them.

Deterministic (seeded), so loading twice changes nothing: the second run's registrations answer
409 and its sales are recognised as retries.
"""

import asyncio
import random
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from faker import Faker

from campaigns.domain.control import in_control
from shared.auth import Role, TokenIssuer

STORES = [
    ("S001", "城东大卖场", "杭州"),
    ("S002", "翠苑社区超市", "杭州"),
    ("S003", "九堡建材店", "杭州"),
]
# Where the stores are, Hangzhou, and the platform's default CRM_BUSINESS_TIMEZONE: the customers'
# sign-ups and purchases are dated in the stores' hours there.
STORES_ZONE = ZoneInfo("Asia/Shanghai")
COMMUNITIES = ["阳光花园", "翠苑一区", "金色家园", "湖畔居", "丽景湾", "明月小区", "锦绣江南", "城东新村"]
# How customers also write some of them: resolved to the same community (the 小区 suffix is ignored).
SPELLINGS = {"阳光花园": "阳光花园小区", "丽景湾": "丽景湾小区"}
# id (the token subject), name, work phone, store
MANAGERS = [
    ("am-s001-chen", "陈晓燕", "0571-86001001", "S001"),
    ("am-s001-liu", "刘建国", "0571-86001002", "S001"),
    ("am-s002-zhou", "周丽", "0571-86002001", "S002"),
    ("am-s003-wu", "吴强", "0571-86003001", "S003"),
]
# sku, name, category, unit price, which stores sell it
PRODUCTS = [
    ("6901234567890", "金龙鱼大米 5kg", "grain", "39.90", "S001 S002"),
    ("6902083881085", "鲁花花生油 5L", "oil", "139.00", "S001 S002"),
    ("6907992500133", "伊利纯牛奶 250ml×24", "dairy", "59.90", "S001 S002"),
    ("6920202888883", "农夫山泉 550ml×24", "drinks", "29.80", "S001 S002"),
    ("6901028075831", "中华香烟 条", "tobacco", "450.00", "S001"),
    ("6903148144378", "维达抽纸 3层×24包", "household", "49.90", "S001 S002"),
    ("6922266437816", "蓝月亮洗衣液 3kg", "household", "45.90", "S001 S002"),
    ("2000000000011", "鲜猪肉 (kg)", "fresh", "26.80", "S001 S002"),
    ("6970001110019", "立邦乳胶漆 18L", "paint", "899.00", "S003"),
    ("6970001110026", "东鹏瓷砖 800×800 (片)", "tiles", "68.00", "S003"),
    ("6970001110033", "公牛插座 五孔", "electrical", "35.00", "S003"),
    ("6970001110040", "九牧水龙头", "plumbing", "329.00", "S003"),
    # The neighbourhood's weekly shop: enough of an assortment for each member's own habits.
    ("6901234567906", "五常大米 10kg", "grain", "89.00", "S001 S002"),
    ("6901234567913", "陈克明挂面 1kg", "noodles", "12.90", "S001 S002"),
    ("6902083881092", "金龙鱼调和油 5L", "oil", "69.90", "S001 S002"),
    ("6907992500140", "蒙牛纯牛奶 250ml×16", "dairy", "42.00", "S001 S002"),
    ("6907992500157", "光明鲜牛奶 950ml", "dairy", "15.80", "S001 S002"),
    ("6907992500164", "安慕希酸奶 205g×12", "dairy", "65.00", "S001 S002"),
    ("6920202888890", "可口可乐 330ml×24", "drinks", "49.00", "S001 S002"),
    ("6920202888906", "康师傅冰红茶 500ml×15", "drinks", "39.00", "S001 S002"),
    ("6921234500017", "桃李面包 吐司", "bread", "9.90", "S001 S002"),
    ("6921234500024", "土鸡蛋 30枚", "eggs", "29.90", "S001 S002"),
    ("2000000000028", "上海青 (kg)", "vegetables", "6.80", "S001 S002"),
    ("2000000000035", "西红柿 (kg)", "vegetables", "8.60", "S001 S002"),
    ("2000000000042", "土豆 (kg)", "vegetables", "4.20", "S001 S002"),
    ("2000000000059", "红富士苹果 (kg)", "fruit", "12.80", "S001 S002"),
    ("2000000000066", "香蕉 (kg)", "fruit", "7.90", "S001 S002"),
    ("2000000000073", "鲜鸡胸肉 (kg)", "fresh", "22.00", "S001 S002"),
    ("2000000000080", "草鱼 (kg)", "fresh", "18.80", "S001 S002"),
    ("6922266437823", "舒肤佳香皂 3块", "personal_care", "19.90", "S001 S002"),
    ("6922266437830", "高露洁牙膏 180g", "personal_care", "16.90", "S001 S002"),
    ("6903148144385", "清风卷纸 10卷", "household", "32.90", "S001 S002"),
    ("6924187800017", "海天酱油 1.9L", "condiments", "23.50", "S001 S002"),
    ("6924187800024", "恒顺香醋 500ml", "condiments", "8.90", "S001 S002"),
    ("6923450600017", "三全水饺 1kg", "frozen", "26.90", "S001 S002"),
    ("6923450600024", "思念汤圆 500g", "frozen", "15.90", "S001 S002"),
    ("6925303700017", "洽洽瓜子 500g", "snacks", "18.90", "S001 S002"),
    ("6925303700024", "旺旺雪饼 520g", "snacks", "22.90", "S001 S002"),
    ("6925303700031", "奥利奥饼干 388g", "snacks", "19.90", "S001 S002"),
    ("6926027700017", "皇家狗粮 2kg", "pet", "128.00", "S001 S002"),
    ("6926027700024", "帮宝适纸尿裤 L52", "baby", "139.00", "S001 S002"),
    ("6901028075848", "利群香烟 条", "tobacco", "230.00", "S001 S002"),
    ("6902952880017", "青岛啤酒 500ml×12", "liquor", "59.00", "S001 S002"),
]


def _store(rng: random.Random) -> str:
    return rng.choices([s for s, _, _ in STORES], weights=[6, 3, 1])[0]


HISTORY_DAYS = 90


def _joining_days(rng: random.Random, members: int) -> list[int]:
    """The day each member registered, counted from the first day of the sales history (negative:
    before it). Two in five were customers before the history starts (over the nine months before),
    the others join over its first 80 days, so every month of the history has its new customers."""
    return [rng.randint(-270, -1) if rng.random() < 0.4 else rng.randint(0, HISTORY_DAYS - 10) for _ in range(members)]


def _local_time(start: datetime, day: int, seconds: int) -> datetime:
    """`seconds` after midnight in the stores' zone on the day `day` days after `start`'s, in UTC."""
    midnight = datetime.combine(start.date() + timedelta(days=day), time(), STORES_ZONE)
    return (midnight + timedelta(seconds=seconds)).astimezone(UTC)


def _registered_at(rng: random.Random, start: datetime, day: int) -> datetime:
    """At the service desk, 9:00-15:00 in the stores' zone (1:00-7:00 UTC) of that day: before any
    sale of the member, which comes on a later day."""
    return _local_time(start, day, rng.randint(9 * 3600, 15 * 3600))


def _sold_at(rng: random.Random, start: datetime, day: int) -> datetime:
    """While the stores are open, 8:00-21:00 in their zone (0:00-13:00 UTC) of that day: the hours
    reports show sales at, and, as `start` is a UTC midnight, on that day in UTC too, so that every
    sale of the history is before the day of the load."""
    return _local_time(start, day, rng.randint(8 * 3600, 21 * 3600))


def _members_shopping(rng: random.Random, joined: list[int], sales: int) -> list[tuple[int, int, str, list[tuple]]]:
    """`sales` of the members' own sales as their habits make them, in random order: (member index,
    day of the 89 before today, store, products). A member's first visit comes after the day they
    registered (`joined`, as `_joining_days` gives). Each member shops at one store on their own rhythm
    (heavy buyers every few days, most every week or two; one in seven stops coming), buying their
    staples when they run out (every 7-10 days, household goods every few weeks) and now and then
    something else: what the personal offer lists predict. Rhythms are scaled so that the members
    make about `sales` visits in all, and the few past it are dropped at random."""
    grocery_days, household_days = (7.0, 10.0), (18.0, 35.0)
    household = {"oil", "grain", "household", "pet", "baby", "personal_care", "tobacco", "paint", "tiles", "electrical",
                 "plumbing"}
    profiles = []
    for joined_day in joined:
        store = _store(rng)
        choices = [p for p in PRODUCTS if store in p[4]]
        staples = [(p, rng.uniform(*(household_days if p[2] in household else grocery_days)))
                   for p in rng.sample(choices, k=min(len(choices), rng.randint(6, 12)))]
        first = max(0, joined_day + 1)  # the day after registering at the earliest
        stop = 89.0 if rng.random() > 1 / 7 else rng.uniform(max(20, first + 10), 89)
        profiles.append((store, choices, staples, 7.0 / rng.lognormvariate(0, 0.6), stop, first))
    expected = sum((stop - first) / max(2.0, rhythm) for _, _, _, rhythm, stop, first in profiles)
    scale = expected / max(sales, 1) * 1.05  # a little over, so nobody is short
    found: list[tuple[int, int, str, list[tuple]]] = []
    for idx, (store, choices, staples, rhythm, stop, first) in enumerate(profiles):
        rhythm = min(45.0, max(2.0, rhythm * scale))
        last = {p[0]: first + rng.uniform(-period, 0) for p, period in staples}
        day = first + rng.uniform(0, rhythm)
        while day < stop:
            basket = [p for p, period in staples if day - last[p[0]] >= period - min(rhythm, period) / 2]
            if rng.random() < 0.5 or not basket:
                basket.append(rng.choice(choices))
            for p in basket:
                last[p[0]] = day
            found.append((idx, int(day), store, list(dict.fromkeys(basket))[:8]))
            day += max(1.0, rng.gauss(rhythm, rhythm / 5))
    rng.shuffle(found)
    return found[:sales]


def _sale(rng: random.Random, store: str, txn: str, at: datetime, member: dict | None,
          products: list[tuple] | None = None) -> dict:
    choices = [p for p in PRODUCTS if store in p[4]]
    lines = []
    for sku, name, category, price, _ in products or rng.sample(choices, k=min(len(choices), rng.randint(1, 4))):
        qty = Decimal(rng.randint(1, 20 if category == "tiles" else 3))
        amount = (Decimal(price) * qty).quantize(Decimal("0.01"))
        lines.append({"sku": sku, "name": name, "category": category, "qty": str(qty), "unit_price": price, "amount": str(amount)})
    body = {
        "store_id": store, "pos_txn_id": txn, "occurred_at": at.isoformat(), "lines": lines,
        "total": str(sum(Decimal(line["amount"]) for line in lines)), "payment": rng.choice(["wechat", "alipay", "cash", "card"]),
    }
    if member is not None:
        body["member"] = member
    return body


async def _load(gateway: str, issuer: TokenIssuer) -> None:
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        print(await load(client, issuer))


async def _members_by_phone(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every member by phone, as an admin lists them (200 at a time)."""
    found: dict[str, dict[str, Any]] = {}
    seen = 0
    while True:
        page = (await client.get("/api/v1/members", params={"limit": 200, "offset": seen}, headers=admin)).raise_for_status().json()
        found.update({m["phone"]: m for m in page["items"] if m.get("phone")})  # an erased member has none
        seen += len(page["items"])
        if not page["items"] or seen >= page["total"]:
            return found


async def cover_communities(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """Every community is covered by an account manager before the sales make VIPs of anyone; one
    covered already keeps its managers. Dealt out anew, a load again gave the communities after one
    registered since (in name order) each a second manager, and put back coverage staff took away."""
    staff = (await client.get("/api/members/v1/staff", params={"role": "account_manager"}, headers=admin)).raise_for_status().json()
    covered = {community for manager in staff if manager["active"] for community in manager["communities"]}
    found = (await client.get("/api/members/v1/communities", params={"limit": 500}, headers=admin)).raise_for_status().json()
    for i, community in enumerate(sorted(found["items"], key=lambda c: c["name"])):
        if community["id"] not in covered:
            staff_id = MANAGERS[i % len(MANAGERS)][0]
            (await client.put(f"/api/members/v1/staff/{staff_id}/communities/{community['id']}", headers=admin)).raise_for_status()


async def stock_gifts(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """Gifts counted at every store that has none of them yet; the catalogue itself comes with the
    points service. A store counted before keeps its count: a load again (`crm run --demo` once more
    on the same data directory) would otherwise put back every gift handed over since, and undo the
    counts staff set."""
    gifts = (await client.get("/api/points/v1/gifts", headers=admin)).raise_for_status().json()
    for gift in gifts:
        counted = (await client.get(f"/api/points/v1/gifts/{gift['gift_id']}/stock", headers=admin)).raise_for_status().json()
        stocked = {row["store_id"] for row in counted}
        units = max(2, 300_000 // gift["prices"]["retail"])
        for store_id, _, _ in STORES:
            if store_id not in stocked:
                (await client.put(f"/api/points/v1/gifts/{gift['gift_id']}/stock/{store_id}",
                                  json={"quantity": units}, headers=admin)).raise_for_status()


async def load(
    client: httpx.AsyncClient, issuer: TokenIssuer, members: int = 200, sales: int = 3000, queue_wait_s: float = 30,
    today: datetime | None = None,
) -> str:
    """Loads the demo through the gateway's public API, as staff and tills would; returns a summary.
    `today` (midnight UTC) is the day its history ends: today's, unless a test loads as on another day."""
    rng, fake = random.Random(20261123), Faker("zh_CN")
    fake.seed_instance(20261123)
    admin = {"Authorization": f"Bearer {issuer.mint('demo-admin', Role.ADMIN)}"}
    desk = {"Authorization": f"Bearer {issuer.mint('demo-desk', Role.SERVICE_DESK, store_id='S001')}"}
    pos = {s: {"Authorization": f"Bearer {issuer.mint(f'pos-{s}', Role.POS, store_id=s)}"} for s, _, _ in STORES}
    for store_id, name, city in STORES:
        (await client.put(f"/api/v1/stores/{store_id}", json={"name": name, "city": city}, headers=admin)).raise_for_status()
    await stock_gifts(client, admin)
    for staff_id, name, phone, store_id in MANAGERS:
        r = await client.post("/api/members/v1/staff", headers=admin, json={
            "id": staff_id, "name": name, "work_phone": phone, "store_id": store_id, "role": "account_manager"})
        if r.status_code != 409:  # 409: loaded before
            r.raise_for_status()

    today = today or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=HISTORY_DAYS)
    cards: list[str] = []
    phones: list[str] = []
    joined: list[int] = []
    member_cards: dict[str, str] = {}
    registered_before: dict[str, dict[str, Any]] | None = None
    for i, joined_day in enumerate(_joining_days(rng, members)):
        community = rng.choice(COMMUNITIES)
        written = SPELLINGS.get(community, community) if rng.random() < 0.3 else community
        phone = f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}"
        # Taken from the index, not `rng`, so that the rest of the demo stays as it was; one in ten
        # did not say (a salutation then reads 先生/女士).
        gender = "unspecified" if i % 10 == 9 else ("female", "male")[i % 2]
        name = {"female": fake.name_female, "male": fake.name_male}.get(gender, fake.name)()
        body = {
            "name": name, "gender": gender, "phone": phone, "community": written,
            "address": f"{community}{rng.randint(1, 30)}幢{rng.randint(1, 4)}单元{rng.randint(1, 30)}0{rng.randint(1, 4)}室",
            "channel": "partner" if i % 9 == 0 else "retail",
            "birthday": fake.date_of_birth(minimum_age=20, maximum_age=75).isoformat(),
            "home_store_id": rng.choice(STORES)[0], "consents": {"sms": rng.random() < 0.7},
            # Signed up before their first sale, months apart from each other: monthly reports
            # (new customers, a manager's new customers) look like a chain's, not one month's.
            # Only an admin may date a registration back (the back office importing paper forms).
            "registered_at": _registered_at(rng, start, joined_day).isoformat(),
        }
        # The key makes a second load on the same day find the member it registered the first time.
        key = f"demo-member-{i:05d}-{start:%Y%m%d}"
        r = await client.post("/api/v1/members", json=body, headers={**admin, "Idempotency-Key": key})
        if r.status_code == 409:
            # Loaded on an earlier day (the dates moved with today), or the same phone drawn twice.
            # The refusal names nobody (whoever registers learns no one's id from it): the members
            # loaded before are found in the list, read once.
            if registered_before is None:
                registered_before = await _members_by_phone(client, admin)
            member = registered_before.get(phone)
            if member is None or member["id"] in member_cards:
                continue
        else:
            member = r.raise_for_status().json()
        cards.append(member["card_no"])
        phones.append(phone)
        joined.append(joined_day)
        member_cards[member["id"]] = member["card_no"]

    await cover_communities(client, admin)

    bodies = []
    shopped = _members_shopping(rng, joined, sales)
    for n in range(sales):
        roll = rng.random()
        if roll < 0.1 or not cards:
            member, store, at, lines = None, _store(rng), start + timedelta(seconds=rng.randint(0, 90 * 86400)), None  # anonymous
        elif roll < 0.13:  # a card not registered yet
            member, store = {"card_no": f"8899{rng.randint(0, 10**9 - 1):09d}"}, _store(rng)
            at, lines = start + timedelta(seconds=rng.randint(0, 90 * 86400)), None
        else:
            if not shopped:  # the habits made fewer visits than this many sales: one more visit
                shopped = _members_shopping(rng, joined, 1)
            idx, day, store, lines = shopped.pop()
            at = _sold_at(rng, start, day)
            member = {"phone": phones[idx]} if roll < 0.25 else {"card_no": cards[idx]}
        bodies.append(_sale(rng, store, f"{store}-D{today:%Y%m%d}-{n:06d}", at, member, lines))

    sem = asyncio.Semaphore(16)

    async def post(body: dict) -> None:
        async with sem:
            r = await client.post("/pos/v1/purchases", json=body, headers=pos[body["store_id"]])
            r.raise_for_status()

    await asyncio.gather(*(post(b) for b in bodies))

    # Some goods come back: the last line of every 40th sale.
    returns = 0
    for sale in bodies[::40]:
        r = await client.post("/pos/v1/refunds", json=return_of(sale, today), headers=pos[sale["store_id"]])
        if r.status_code != 409:  # 409: its id was taken by a return of a load before, dated otherwise
            r.raise_for_status()
        returns += 1
    tracked, vips = await _track_vips(client, issuer, rng, queue_wait_s)
    handed_over = await _gift_desk(client, desk, vips)
    complaints = await _complaints(client, desk, phones, today)
    r = await client.post("/api/members/v1/jobs/value-analytics/run", headers=admin)
    analysed = f"{r.json()['members_total']} members scored" if r.status_code == 200 else f"not run ({r.status_code})"
    campaign = await _campaign(client, issuer, rng, member_cards, pos, queue_wait_s)
    lists = await _offer_lists(client, issuer)
    return (
        f"demo data: {len(STORES)} stores, {len(MANAGERS)} account managers, {len(cards)} members, {sales} sales, "
        f"{returns} returns, {tracked} tracking contacts, {handed_over} gifts handed over, {complaints} complaints; "
        f"value analytics: {analysed}; {campaign}; {lists} "
        "(points, tiers and the information base follow the sales within seconds)"
    )


def return_of(sale: dict, today: datetime) -> dict:
    """The return of a demo sale's last line, two days after the sale, or at the start of `today`
    (the load's day) for the most recent sales: a till never dates a return ahead, and every demo
    sale is before today. Fixed by the day, not by the clock, so that a second load on the same
    day posts the same return, which the gateway answers as a retry; a return of other content
    under the same id is refused (409)."""
    returned = sale["lines"][-1:]
    back_at = min(datetime.fromisoformat(sale["occurred_at"]) + timedelta(days=2), today)
    return {"store_id": sale["store_id"], "refund_id": f"{sale['pos_txn_id']}-R", "pos_txn_id": sale["pos_txn_id"],
            "occurred_at": back_at.isoformat(), "lines": returned, "amount": returned[0]["amount"]}


async def _track_vips(
    client: httpx.AsyncClient, issuer: TokenIssuer, rng: random.Random, wait_s: float
) -> tuple[int, list[str]]:
    """Each manager calls a few of their VIPs. Sales reach members through the broker, so the
    queues fill within seconds; waits a bounded time for them, then records what is there."""
    deadline = asyncio.get_running_loop().time() + wait_s
    recorded, vips = 0, []
    for staff_id, _, _, store_id in MANAGERS:
        headers = {"Authorization": f"Bearer {issuer.mint(staff_id, Role.ACCOUNT_MANAGER, store_id=store_id)}"}
        while True:
            queue = (await client.get("/api/members/v1/tracking/queue", headers=headers)).json()
            if queue.get("items") or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(1)
        vips += [item["member_id"] for item in queue.get("items", [])]
        today = datetime.now(STORES_ZONE).date().isoformat()  # the stores' day, as members dates a call
        report = (await client.get("/api/members/v1/tracking/reports/daily", params={"date": today}, headers=headers)).json()
        if report.get("records"):  # a load before recorded today's calls
            recorded += len(report["records"])
            continue
        for item in queue.get("items", [])[:3]:
            # A key of the day per customer: a line whose answer was lost is recorded once.
            keyed = {**headers, "Idempotency-Key": f"demo-tracking-{item['member_id']}-{today}"}
            r = await client.post("/api/members/v1/tracking/records", headers=keyed, json={
                "tracked_on": today, "member_id": item["member_id"],
                "contact": rng.choice(["本人", "家属"]), "method": rng.choice(["phone", "wechat", "home_visit"]),
                "rating": rng.randint(3, 5), "notes": rng.choice(["回访满意", "询问上门回收余料", "推荐新品"]),
            })
            if r.status_code in (200, 201):
                recorded += 1
    return recorded, vips


async def _gift_desk(client: httpx.AsyncClient, desk: dict, vips: list[str]) -> int:
    """A cushion for each of the first three VIPs whose points allow it, handed over at the S001
    desk; none more if the desk's register of these days has some (a load before gave them)."""
    today = datetime.now(STORES_ZONE).date()
    register = await client.get("/api/points/v1/gift-register", headers=desk, params={
        "store_id": "S001", "from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()})
    register.raise_for_status()
    if register.json():
        return len(register.json())
    handed = 0
    for member_id in vips:
        if handed == 3:
            break
        account = await client.get(f"/api/points/v1/accounts/{member_id}", headers=desk)
        if account.status_code != 200 or account.json()["balance"] < 10_000:
            continue
        r = await client.post("/api/points/v1/redemptions", headers={**desk, "Idempotency-Key": f"demo-{member_id}"},
                              json={"member_id": member_id, "gift_id": "cushion", "store_id": "S001"})
        if r.status_code in (200, 201) and r.json()["status"] == "reserved":
            r = await client.post(f"/api/points/v1/redemptions/{r.json()['redemption_id']}/hand-over", headers=desk)
        if r.status_code == 200 and r.json()["status"] == "handed_over":
            handed += 1
    return handed


async def _complaints(client: httpx.AsyncClient, desk: dict, phones: list[str], today: datetime) -> int:
    """Four complaints filed at the S001 desk, each under a key of the day: a second load that day
    finds them filed (feedback answers the first complaint again) instead of filing them twice."""
    rng = random.Random(20261124)  # its own: the same customers whatever the loads before drew
    filed = 0
    for n, (category, severity, text) in enumerate([
        ("checkout_queues", "medium", "周末收银排队太久"), ("product_quality", "high", "买的牛奶已过期"),
        ("service_attitude", "low", "导购态度冷淡"), ("delivery", "medium", "瓷砖送货晚了一天"),
    ]):
        found = (await client.get("/api/v1/members", params={"phone": rng.choice(phones)}, headers=desk)).json()
        member_id = found["items"][0]["id"] if found.get("items") else None
        r = await client.post("/api/feedback/v1/complaints", headers={**desk, "Idempotency-Key": f"demo-complaint-{n}-{today:%Y%m%d}"},
                              json={"member_id": member_id, "store_id": "S001", "category": category, "severity": severity,
                                    "description": text})
        if r.status_code in (200, 201):
            filed += 1
    return filed


CAMPAIGN = "回馈老客户：满100减20"


# Half held out, the most a campaign may: the demo's audience is a few dozen members at most, and
# its results page is there to show the treated against the held out.
CONTROL_SHARE = Decimal("0.5")
# The split follows the campaign's random id, so a draft whose preview leaves a group empty is
# ended and another made, a fresh draw each time. With n members in the audience a draw leaves a
# group empty with probability 2 * 0.5**n: 1/2 at n = 2, and ATTEMPTS draws all do so with
# probability (1/2)**24 < 1e-7 at worst (1/16 per draw from n = 5, the e2e test's scale).
ATTEMPTS = 24


async def _campaign(
    client: httpx.AsyncClient, issuer: TokenIssuer, rng: random.Random, member_cards: dict[str, str],
    pos: dict[str, dict[str, str]], wait_s: float,
) -> str:
    """Marketing wins back key customers at risk who agreed to marketing SMS, across the chain: a
    满100减20 coupon, half of them held out as the control group. About half of those reached come
    back and use it at the till (the first returns the sale, which gives the coupon back), and two
    held out shop without it, so the results page shows redemptions and spend against control."""
    mkt = {"Authorization": f"Bearer {issuer.mint('demo-marketing', Role.MARKETING)}"}
    found = (await client.get("/api/campaigns/v1/campaigns", headers=mkt)).json()
    if any(c["name"] == CAMPAIGN for c in found):
        return "campaign: loaded before"
    # The consent in the rule too: the segment is then the campaign's audience, and its sample
    # names the held out who shop below.
    rule = {"and": [{"field": "value_class", "op": "in", "value": ["key", "secondary"]},
                    {"field": "churn_risk", "op": "in", "value": ["medium", "high", "lost"]},
                    {"field": "marketing_consent", "channel": "sms"}]}

    # The attributes reach campaigns through the broker after the analytics run: wait for them.
    deadline = asyncio.get_running_loop().time() + wait_s
    size = 0
    while not size and asyncio.get_running_loop().time() < deadline:
        size = (await client.post("/api/campaigns/v1/segments/preview", json={"rule": rule}, headers=mkt)).json()["size"]
        if not size:
            await asyncio.sleep(1)
    if not size:
        return "campaign: not run (no customer at risk yet)"
    r = await client.post("/api/campaigns/v1/segments", headers=mkt, json={"name": "全部社区 流失风险的重点客户", "rule": rule})
    segment_id = r.json()["id"] if r.status_code == 201 else None
    if segment_id is None:
        return f"campaign: segment refused ({r.status_code})"
    r = await client.post("/api/campaigns/v1/coupon-templates", headers={**mkt, "Idempotency-Key": f"demo-template-{segment_id}"}, json={
        "name": "满100减20", "kind": "threshold", "threshold": "100", "amount": "20", "validity": {"days": 30},
        "returns_on_refund": True})
    r.raise_for_status()
    template_id = r.json()["id"]
    for attempt in range(ATTEMPTS):
        r = await client.post("/api/campaigns/v1/campaigns", headers={**mkt, "Idempotency-Key": f"demo-campaign-{segment_id}-{attempt}"},
                              json={"name": CAMPAIGN, "kind": "one_off", "segment_id": segment_id, "coupon_template_id": template_id,
                                    "message": {"template": "coupon_offer", "params": {"offer": "满100减20"}},
                                    "control_share": str(CONTROL_SHARE)})
        r.raise_for_status()
        draft = r.json()["id"]
        split = (await client.get(f"/api/campaigns/v1/campaigns/{draft}/preview", headers=mkt)).json()
        if (split["treatment"] and split["control"]) or split["audience"] < 2 or attempt == ATTEMPTS - 1:
            break
        (await client.post(f"/api/campaigns/v1/campaigns/{draft}/end", headers=mkt)).raise_for_status()
    campaign = (await client.post(f"/api/campaigns/v1/campaigns/{draft}/launch", headers=mkt)).json()

    # About half of the treated come back with the coupon.
    now = datetime.now(UTC)
    redeemed = returned = 0
    for n, member_id in enumerate(sorted(member_cards)):
        me = {"Authorization": f"Bearer {issuer.mint(member_id, Role.MEMBER, member_id=member_id)}"}
        wallet = (await client.get(f"/api/campaigns/v1/members/{member_id}/coupons", headers=me)).json()
        coupon = next((c for c in wallet if c.get("campaign_id") == campaign["id"]), None)
        if coupon is None or (redeemed and rng.random() < 0.5):  # the first always comes back
            continue
        store = "S001"
        lines = [{"sku": "6902083881085", "name": "鲁花花生油 5L", "category": "oil", "qty": "1", "unit_price": "139.00",
                  "amount": "139.00"}]
        txn = f"{store}-CPN-{n:05d}"
        basket = {"store_id": store, "pos_txn_id": txn, "occurred_at": now.isoformat(),
                  "member": {"card_no": member_cards[member_id]}, "lines": lines, "codes": [coupon["code"]]}
        held = (await client.post("/pos/v1/coupons/reserve", json=basket, headers=pos[store])).json()
        if not held.get("codes") or not held["codes"][0]["ok"]:
            continue
        sale = {"store_id": store, "pos_txn_id": txn, "occurred_at": now.isoformat(), "lines": lines, "total": "139.00",
                "payment": "wechat", "member": {"card_no": member_cards[member_id]}, "coupons": [coupon["code"]],
                "discounts": [{"code": coupon["code"], "amount": held["codes"][0]["discount"]}]}
        (await client.post("/pos/v1/purchases", json=sale, headers=pos[store])).raise_for_status()
        redeemed += 1
        if redeemed == 1:  # the first changes their mind: the return gives the coupon back
            refund = {"store_id": store, "refund_id": f"{txn}-R", "pos_txn_id": txn,
                      "occurred_at": (now + timedelta(seconds=1)).isoformat(), "lines": lines, "amount": "139.00"}
            (await client.post("/pos/v1/refunds", json=refund, headers=pos[store])).raise_for_status()
            returned += 1
    # Two of the held out shop without a coupon, for different amounts: a control group that spent
    # nothing, or all alike, gives the uplift no interval. The split is recomputed from the ids, as
    # `in_control` allows, over the segment's sample (its first members by id).
    sample = (await client.get(f"/api/campaigns/v1/segments/{segment_id}/preview", headers=mkt)).json()["sample"]
    held_out = [s["member_id"] for s in sample if in_control(campaign["id"], s["member_id"], CONTROL_SHARE)]
    baskets = [("6901234567890", "金龙鱼大米 5kg", "grain", Decimal("39.90"), 1), ("6907992500133", "伊利纯牛奶 250ml×24", "dairy", Decimal("59.90"), 2)]
    for n, (member_id, (sku, name, category, price, qty)) in enumerate(zip(held_out, baskets, strict=False)):
        store, amount = "S002", str(price * qty)
        lines = [{"sku": sku, "name": name, "category": category, "qty": str(qty), "unit_price": str(price), "amount": amount}]
        sale = {"store_id": store, "pos_txn_id": f"{store}-CTL-{n:05d}", "occurred_at": now.isoformat(), "lines": lines, "total": amount,
                "payment": "wechat", "member": {"card_no": member_cards[member_id]}}
        (await client.post("/pos/v1/purchases", json=sale, headers=pos[store])).raise_for_status()
    return (f"campaign '{CAMPAIGN}' to {size} key customers at risk in 全部社区: "
            f"{campaign['treatment_size']} reached, {campaign['control_size']} held out, {redeemed} redeemed at the till, "
            f"{returned} returned")


# The fortnight's promotion list: (title, what it is on, discount).
PROMOTIONS = [
    ("伊利纯牛奶 特价49.90", {"sku": "6907992500133", "price": "49.90", "regular_price": "59.90"}),
    ("金龙鱼大米 立减5元", {"sku": "6901234567890", "amount_off": "5.00"}),
    ("鲁花花生油 立减20元", {"sku": "6902083881085", "amount_off": "20.00"}),
    ("光明鲜牛奶 特价12.80", {"sku": "6907992500157", "price": "12.80", "regular_price": "15.80"}),
    ("土鸡蛋 立减3元", {"sku": "6921234500024", "amount_off": "3.00"}),
    ("农夫山泉 特价25.80", {"sku": "6920202888883", "price": "25.80", "regular_price": "29.80"}),
    ("维达抽纸 立减8元", {"sku": "6903148144378", "amount_off": "8.00"}),
    ("海天酱油 立减3元", {"sku": "6924187800017", "amount_off": "3.00"}),
    ("新鲜水果 9折", {"category": "fruit", "percent_off": "10", "max_discount": "10.00"}),
    ("新鲜蔬菜 9折", {"category": "vegetables", "percent_off": "10", "max_discount": "5.00"}),
    ("休闲零食 满额9折", {"category": "snacks", "percent_off": "10", "max_discount": "8.00"}),
    ("帮宝适纸尿裤 立减20元", {"sku": "6926027700024", "amount_off": "20.00"}),
]


async def _offer_lists(client: httpx.AsyncClient, issuer: TokenIssuer) -> str:
    """Marketing puts the fortnight's promotions on the list and builds everyone's personal offer
    lists now (the `offer-lists` job would at the start of the next period)."""
    mkt = {"Authorization": f"Bearer {issuer.mint('demo-marketing', Role.MARKETING)}"}
    known = (await client.get("/api/campaigns/v1/promotions", params={"limit": 500}, headers=mkt)).json()
    if any(p["spec"]["title"] == PROMOTIONS[0][0] for p in known):
        return "offer lists: loaded before"
    now = datetime.now(UTC)
    for priority, (title, item) in enumerate(PROMOTIONS):
        r = await client.post("/api/campaigns/v1/promotions", headers={**mkt, "Idempotency-Key": f"demo-promotion-{now:%Y%m%d%H%M%S}-{priority}"}, json={
            "title": title, **item, "priority": priority, "valid_from": (now - timedelta(hours=1)).isoformat(),
            "valid_until": (now + timedelta(days=14)).isoformat()})
        r.raise_for_status()
    r = await client.post("/api/campaigns/v1/offer-lists", headers=mkt)
    r.raise_for_status()
    built = r.json()
    return (f"offer lists: {built['members']} members ({built['personal']} personal, {built['general']} general), "
            f"{built['held_out']} held out")


def load_demo(gateway: str, private_pem: str) -> None:
    """`private_pem`: the key the platform's tokens are signed with."""
    asyncio.run(_load(gateway, TokenIssuer(private_pem)))
