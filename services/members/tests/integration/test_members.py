"""Members API and event handling against SQLite and PostgreSQL."""

import json
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from members.adapters.tables import MemberRow, PurchaseRow
from shared.auth import Role
from shared.cards import has_valid_check_digit
from tests.support.factories import line, member_body
from tests.support.members import deliver_refund, deliver_sale, desk, outbox, register
from tests.support.platform import service

pytestmark = pytest.mark.integration


async def test_registration_issues_a_valid_card_and_announces_the_member_without_personal_data(members, env) -> None:
    member = await register(members, env, name="李娜", phone="13912345678", address="翠苑一区5幢")
    assert re.fullmatch(r"88\d{11}", member["card_no"]) and has_valid_check_digit(member["card_no"])
    [row] = await outbox(members, "crm.members.member_registered.v1")
    assert row.key == member["id"]
    for personal in ("李娜", "13912345678", "翠苑一区5幢"):
        assert personal not in row.envelope


async def test_registration_keeps_a_card_given_at_the_desk(members, env) -> None:
    member = await register(members, env, card_no="8800000012345")
    assert member["card_no"] == "8800000012345"


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [("phone", "1380013800", "pattern"), ("phone", "23800138000", "pattern"), ("name", "   ", "blank"),
     ("name", "\u200b\u200b", "blank"), ("community", "\ufeff", "blank"),
     ("birthday", "2999-01-01", "future"), ("channel", "wholesale", "retail"), ("community", "", "at least 1"),
     # Lax parsing took 0 and "0" for 1970-01-01 (a Unix timestamp), and a midnight time for its date.
     ("birthday", 0, "YYYY-MM-DD"), ("birthday", "0", "YYYY-MM-DD"), ("birthday", "1990-05-17T00:00:00", "YYYY-MM-DD"),
     ("birthday", "1800-01-01", "more than 130 years ago"), ("birthday", "0001-01-01", "more than 130 years ago")],
)
async def test_bad_registrations_are_422_naming_the_field(members, env, field, value, says) -> None:
    r = await members.post("/v1/members", json=member_body(**{field: value}), headers=desk(env))
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", field] and says in error["msg"]


async def test_a_birthday_is_judged_by_the_service_clock_on_the_chain_business_date(env, database_factory) -> None:
    from members.config import Settings
    from members.main import create_app

    # 16:30 UTC on the 22nd is already the 23rd in Shanghai (the chain's timezone).
    now = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)
    app = create_app(env.settings(Settings, await database_factory("members")), clock=lambda: now)
    async with service(app) as members:
        born_today = await members.post("/v1/members", json=member_body(birthday="2026-11-23"), headers=desk(env))
        assert born_today.status_code == 201, born_today.text
        for r in (
            await members.post("/v1/members", json=member_body(birthday="2026-11-24"), headers=desk(env)),
            await members.patch(f"/v1/members/{born_today.json()['id']}", json={"birthday": "2026-11-24"}, headers=desk(env)),
        ):
            assert r.status_code == 422
            [error] = r.json()["detail"]
            assert error["loc"] == ["body", "birthday"] and "future" in error["msg"]


async def test_a_birthday_more_than_130_years_back_on_the_business_date_is_refused(env, database_factory) -> None:
    from members.config import Settings
    from members.main import create_app

    # 16:30 UTC on the 22nd is already the 23rd in Shanghai: a customer born 1896-11-23 is 130 today.
    now = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)
    app = create_app(env.settings(Settings, await database_factory("members")), clock=lambda: now)
    async with service(app) as members:
        oldest = await members.post("/v1/members", json=member_body(birthday="1896-11-23"), headers=desk(env))
        assert oldest.status_code == 201, oldest.text
        for r in (
            await members.post("/v1/members", json=member_body(birthday="1896-11-22"), headers=desk(env)),
            await members.patch(f"/v1/members/{oldest.json()['id']}", json={"birthday": "1896-11-22"}, headers=desk(env)),
        ):
            assert r.status_code == 422
            [error] = r.json()["detail"]
            assert error["loc"] == ["body", "birthday"]
            assert error["msg"] == "Value error, birthday is more than 130 years ago (the earliest taken is 1896-11-23)"


@pytest.mark.parametrize(("birthday", "says"), [(0, "YYYY-MM-DD"), (19900517, "YYYY-MM-DD"), ("1800-01-01", "130 years")])
async def test_an_edit_stores_no_birthday_guessed_from_a_number_or_beyond_the_oldest_age(members, env, birthday, says) -> None:
    m = await register(members, env, birthday="1990-05-17")
    r = await members.patch(f"/v1/members/{m['id']}", json={"birthday": birthday}, headers=desk(env))
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "birthday"] and says in error["msg"]
    assert (await members.get(f"/v1/members/{m['id']}", headers=desk(env))).json()["birthday"] == "1990-05-17"
    cleared = await members.patch(f"/v1/members/{m['id']}", json={"birthday": None}, headers=desk(env))
    assert cleared.status_code == 200 and cleared.json()["birthday"] is None  # null still clears it


async def test_an_admin_imports_a_paper_form_under_the_day_it_was_signed(env, database_factory) -> None:
    from members.config import Settings
    from members.main import create_app

    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    app = create_app(env.settings(Settings, await database_factory("members")), clock=lambda: now)
    signed = "2026-08-14T10:30:00+08:00"
    async with service(app) as members:
        r = await members.post("/v1/members", json=member_body(registered_at=signed), headers=env.auth(Role.ADMIN))
        assert r.status_code == 201, r.text
        assert datetime.fromisoformat(r.json()["created_at"]) == datetime(2026, 8, 14, 2, 30, tzinfo=UTC)
        [row] = await outbox(members, "crm.members.member_registered.v1")
        assert json.loads(row.envelope)["data"]["registered_at"] == "2026-08-14T02:30:00Z"
        # Without it the registration is dated by the service's clock, as before.
        plain = await members.post("/v1/members", json=member_body(), headers=env.auth(Role.ADMIN))
        assert datetime.fromisoformat(plain.json()["created_at"]) == now


async def test_only_admins_backdate_a_registration_and_never_into_the_future(members, env) -> None:
    past = member_body(registered_at="2026-08-14T10:30:00+08:00")
    for role, claims in ((Role.SERVICE_DESK, {"store_id": "S001"}), (Role.STORE_MANAGER, {"store_id": "S001"})):
        refused = await members.post("/v1/members", json=past, headers=env.auth(role, **claims))
        assert refused.status_code == 403 and "register_backdated" in refused.json()["detail"]
    future = await members.post("/v1/members", json=member_body(registered_at="2999-01-01T00:00:00+08:00"),
                                headers=env.auth(Role.ADMIN))
    naive = await members.post("/v1/members", json=member_body(registered_at="2026-08-14T10:30:00"), headers=env.auth(Role.ADMIN))
    for r, says in ((future, "future"), (naive, "timezone")):
        assert r.status_code == 422, r.text
        [error] = r.json()["detail"]
        assert error["loc"] == ["body", "registered_at"] and says in error["msg"]


@pytest.mark.parametrize("registered_at", ["1800-01-01T00:00:00+08:00", "1900-01-01T00:00:00Z", "1969-12-31T23:59:59Z"])
async def test_a_registration_backdated_before_1970_is_refused_naming_the_field(members, env, registered_at: str) -> None:
    # A misread year on a paper form, not a customer: counted, they would be new in a month long gone.
    r = await members.post("/v1/members", json=member_body(registered_at=registered_at), headers=env.auth(Role.ADMIN))
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "registered_at"] and "before 1970" in error["msg"]


async def test_a_card_with_letters_is_one_card_whichever_case_it_is_typed_in(members, env) -> None:
    """A partner card printed QA12B34: typed in small letters at a desk it found nobody, and
    registered so it became a second customer, who then got the first one's sales."""
    holder = await register(members, env, card_no="QA12B34")
    found = await members.get("/v1/members", params={"card_no": "qa12b34"}, headers=desk(env))
    assert [m["id"] for m in found.json()["items"]] == [holder["id"]], found.text
    r = await members.post("/v1/members", json=member_body(card_no="qa12b34"), headers=desk(env))
    assert r.status_code == 409 and r.json()["detail"] == "card_no is already registered to another member", r.text
    await deliver_sale(members, card_no="qa12b34")
    assert (await members.get(f"/v1/members/{holder['id']}", headers=desk(env))).json()["purchase_count"] == 1


async def test_a_phone_or_card_belongs_to_one_member_and_the_refusal_names_nobody(members, env) -> None:
    # Whoever may register learns from the refusal that the number is taken, not whose it is: a
    # store's manager trying another store's customer's phone gets no id to read them by, and the
    # one way to find a customer by phone stays the search that is limited and logged.
    await register(members, env, phone="13700000001", card_no="8800000099999")
    other_store = env.auth(Role.STORE_MANAGER, store_id="S002")
    for headers in (desk(env), other_store):
        r = await members.post("/v1/members", json=member_body(phone="13700000001"), headers=headers)
        assert r.status_code == 409 and r.json()["detail"] == "phone is already registered to another member", r.text
        r = await members.post("/v1/members", json=member_body(card_no="8800000099999"), headers=headers)
        assert r.status_code == 409 and r.json()["detail"] == "card_no is already registered to another member", r.text


async def test_staff_find_members_by_card_phone_and_community(members, env) -> None:
    a = await register(members, env, phone="13600000001", community="丽景湾")
    await register(members, env, phone="13600000002", community="丽景湾")
    await register(members, env, phone="13600000003", community="湖畔居")
    by_card = (await members.get("/v1/members", params={"card_no": a["card_no"]}, headers=desk(env))).json()
    assert [m["id"] for m in by_card["items"]] == [a["id"]]
    by_phone = (await members.get("/v1/members", params={"phone": "13600000001"}, headers=desk(env))).json()
    assert [m["id"] for m in by_phone["items"]] == [a["id"]]
    page = (await members.get("/v1/members", params={"community": "丽景湾", "limit": 1}, headers=desk(env))).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    # A misspelt filter answered the first customers of the chain, as if they were the ones found.
    misspelt = await members.get("/v1/members", params={"q": "13600000001"}, headers=desk(env))
    assert misspelt.status_code == 422 and misspelt.json()["detail"][0]["loc"] == ["query", "q"]


@pytest.mark.parametrize("field", ["name", "community"])
@pytest.mark.parametrize("term", ["   ", "", "\u200b"])
async def test_a_search_term_that_says_nothing_is_422_not_every_member(members, env, field: str, term: str) -> None:
    await register(members, env, name="王小明", community="丽景湾")
    r = await members.get("/v1/members", params={field: term}, headers=desk(env))
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["query", field] and "blank" in error["msg"]
    padded = (await members.get("/v1/members", params={field: " 丽景湾 " if field == "community" else " 小明 "},
                                headers=desk(env))).json()
    assert padded["total"] == 1


async def test_members_registered_at_the_same_moment_are_paged_each_once_in_a_fixed_order(env, database_factory) -> None:
    from members.config import Settings
    from members.main import create_app

    # One clock reading for every registration: created_at alone cannot order them.
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    app = create_app(env.settings(Settings, await database_factory("members")), clock=lambda: now)
    async with service(app) as members:
        ids = [(await register(members, env, community="丽景湾"))["id"] for _ in range(6)]
        pages = []
        for offset in range(0, 6, 2):
            r = await members.get("/v1/members", params={"community": "丽景湾", "limit": 2, "offset": offset}, headers=desk(env))
            assert r.status_code == 200, r.text
            pages += [m["id"] for m in r.json()["items"]]
    # Newest first, and among equals the id decides, the same on every page.
    assert pages == sorted(ids, reverse=True)


async def test_contact_details_are_masked_for_marketing_and_members_see_only_themselves(members, env) -> None:
    a = await register(members, env, phone="13500000001")
    b = await register(members, env, phone="13500000002")
    seen = (await members.get(f"/v1/members/{a['id']}", headers=env.auth(Role.MARKETING))).json()
    assert seen["phone"] == "135****0001" and seen["phone_masked"] and "****" in seen["address"]
    own = await members.get(f"/v1/members/{a['id']}", headers=env.auth(Role.MEMBER, member_id=a["id"]))
    assert own.status_code == 200 and own.json()["phone"] == "13500000001"
    other = await members.get(f"/v1/members/{b['id']}", headers=env.auth(Role.MEMBER, member_id=a["id"]))
    assert other.status_code == 403
    assert (await members.get(f"/v1/members/{a['id']}", headers=env.auth(Role.POS, store_id="S001"))).status_code == 403
    assert (await members.get("/v1/members", headers=env.auth(Role.MEMBER, member_id=a["id"]))).status_code == 403


async def test_sale_with_a_known_card_updates_spend_and_is_attributed(members, env) -> None:
    m = await register(members, env)
    await deliver_sale(members, card_no=m["card_no"], total_qty="3")  # 119.70
    profile = (await members.get(f"/v1/members/{m['id']}", headers=desk(env))).json()
    assert Decimal(profile["lifetime_spend"]) == Decimal("119.70") and profile["purchase_count"] == 1
    [row] = await outbox(members, "crm.members.purchase_attributed.v1")
    assert '"late_match":false' in row.envelope.replace(" ", "")


async def test_sale_with_unknown_card_is_kept_and_credited_when_the_card_is_registered(members, env) -> None:
    txn = await deliver_sale(members, card_no="8800000077777")
    async with members.app.state.sessions() as s:
        kept = (await s.exec(select(PurchaseRow).where(PurchaseRow.pos_txn_id == txn))).one()
    assert kept.member_id is None
    assert await outbox(members, "crm.members.purchase_attributed.v1") == []

    m = await register(members, env, card_no="8800000077777")
    [row] = await outbox(members, "crm.members.purchase_attributed.v1")
    assert m["id"] in row.envelope and '"late_match":true' in row.envelope.replace(" ", "")
    purchases = (await members.get(f"/v1/members/{m['id']}/purchases", headers=desk(env))).json()
    assert [p["pos_txn_id"] for p in purchases] == [txn]


async def test_sale_by_phone_is_matched_through_the_digest_even_before_registration(members, env) -> None:
    early = await deliver_sale(members, phone="13300000009")
    m = await register(members, env, phone="13300000009")
    late = await deliver_sale(members, phone="13300000009")
    purchases = (await members.get(f"/v1/members/{m['id']}/purchases", headers=desk(env))).json()
    assert {p["pos_txn_id"] for p in purchases} == {early, late}


async def test_the_same_sale_under_another_event_id_counts_once(members, env) -> None:
    m = await register(members, env)
    await deliver_sale(members, card_no=m["card_no"], txn="T-dup")
    await deliver_sale(members, card_no=m["card_no"], txn="T-dup", event_id=str(uuid.uuid4()))
    async with members.app.state.sessions() as s:
        row = (await s.exec(select(MemberRow).where(MemberRow.id == m["id"]))).one()
    assert row.purchase_count == 1


async def test_redelivered_event_is_applied_once(members, env) -> None:
    m = await register(members, env)
    await deliver_sale(members, card_no=m["card_no"], txn="T-re", event_id="evt-1")
    await deliver_sale(members, card_no=m["card_no"], txn="T-re", event_id="evt-1")
    assert len(await outbox(members, "crm.members.purchase_attributed.v1")) == 1


async def test_anonymous_sale_is_recorded_without_attribution(members, env) -> None:
    txn = await deliver_sale(members)
    async with members.app.state.sessions() as s:
        row = (await s.exec(select(PurchaseRow).where(PurchaseRow.pos_txn_id == txn))).one()
    assert row.member_id is None and row.card_no is None and row.phone_hmac is None


async def test_a_members_purchases_are_paged_newest_first_with_limit_and_offset(members, env) -> None:
    m = await register(members, env)
    txns = [await deliver_sale(members, card_no=m["card_no"], occurred_at=datetime(2026, 11, day, 10, tzinfo=UTC))
            for day in (20, 21, 22)]
    pages = []
    for offset in (0, 2):
        r = await members.get(f"/v1/members/{m['id']}/purchases?limit=2&offset={offset}", headers=env.auth(Role.MEMBER, member_id=m["id"]))
        assert r.status_code == 200, r.text
        pages.append([p["pos_txn_id"] for p in r.json()])
    assert pages == [[txns[2], txns[1]], [txns[0]]]
    bad = await members.get(f"/v1/members/{m['id']}/purchases?offset=-1", headers=desk(env))
    assert bad.status_code == 422 and "offset" in bad.text


def _after(member: dict, limit: int, last: dict | None = None, **query: object) -> str:
    """The member's purchases page of `limit` after `last` (a purchase as listed), by keyset."""
    url = f"/v1/members/{member['id']}/purchases?limit={limit}"
    if last is not None:
        url += f"&before_store_id={last['store_id']}&before_pos_txn_id={last['pos_txn_id']}"
    return url + "".join(f"&{name}={value}" for name, value in query.items())


async def test_a_page_after_the_last_purchase_shown_repeats_none_when_a_sale_lands_meanwhile(members, env) -> None:
    m = await register(members, env)
    own = env.auth(Role.MEMBER, member_id=m["id"])
    txns = [await deliver_sale(members, card_no=m["card_no"], occurred_at=datetime(2026, 11, day, 10, tzinfo=UTC))
            for day in (17, 18, 19, 20, 21)]
    first = await members.get(_after(m, 2), headers=own)
    assert [p["pos_txn_id"] for p in first.json()] == [txns[4], txns[3]]
    # A sale at the till while the member reads the first page: by offset, the next page would
    # start at the 21st again (listed twice).
    newer = await deliver_sale(members, card_no=m["card_no"], occurred_at=datetime(2026, 11, 22, 10, tzinfo=UTC))
    seen, last = [p["pos_txn_id"] for p in first.json()], first.json()[-1]
    while True:
        r = await members.get(_after(m, 2, last), headers=own)
        assert r.status_code == 200, r.text
        if not r.json():
            break
        seen += [p["pos_txn_id"] for p in r.json()]
        last = r.json()[-1]
    assert seen == [txns[4], txns[3], txns[2], txns[1], txns[0]]
    # The new sale is at the top of a fresh first page; offset counts from the purchase named.
    assert [p["pos_txn_id"] for p in (await members.get(_after(m, 1), headers=own)).json()] == [newer]
    skipped = await members.get(_after(m, 1, first.json()[-1], offset=1), headers=own)
    assert [p["pos_txn_id"] for p in skipped.json()] == [txns[1]]


async def test_purchases_of_the_same_instant_page_by_keyset_across_a_page_boundary(members, env) -> None:
    m = await register(members, env)
    own = env.auth(Role.MEMBER, member_id=m["id"])
    at = datetime(2026, 11, 21, 10, 0, 0, 250000, tzinfo=UTC)
    older = await deliver_sale(members, card_no=m["card_no"], occurred_at=datetime(2026, 11, 20, 10, tzinfo=UTC))
    # Same instant, two stores: the later recorded is listed first, as the offset pages list them.
    tied = [await deliver_sale(members, card_no=m["card_no"], occurred_at=at, store=store) for store in ("S001", "S002", "S001")]
    newest = await deliver_sale(members, card_no=m["card_no"], occurred_at=datetime(2026, 11, 22, 10, tzinfo=UTC))
    everything = [newest, *reversed(tied), older]
    assert [p["pos_txn_id"] for p in (await members.get(_after(m, 10), headers=own)).json()] == everything
    for limit in (1, 2, 3):
        pages, last = [], None
        while page := (await members.get(_after(m, limit, last), headers=own)).json():
            pages.append([p["pos_txn_id"] for p in page])
            last = page[-1]
        assert [txn for p in pages for txn in p] == everything, (limit, pages)
        assert all(len(p) == limit for p in pages[:-1])


async def test_a_page_after_a_purchase_not_the_members_own_is_422_naming_before_pos_txn_id(members, env) -> None:
    m, other = await register(members, env), await register(members, env)
    own = env.auth(Role.MEMBER, member_id=m["id"])
    mine = await deliver_sale(members, card_no=m["card_no"], occurred_at=datetime(2026, 11, 22, 10, tzinfo=UTC))
    await deliver_sale(members, card_no=m["card_no"], occurred_at=datetime(2026, 11, 20, 10, tzinfo=UTC))
    # Between the member's two sales in time: a page after it would list their older one.
    theirs = await deliver_sale(members, card_no=other["card_no"], occurred_at=datetime(2026, 11, 21, 10, tzinfo=UTC))
    anonymous = await deliver_sale(members, occurred_at=datetime(2026, 11, 21, 10, tzinfo=UTC))
    for store, txn in (("S001", theirs), ("S001", anonymous), ("S001", "T-never-sold"), ("S002", mine)):
        r = await members.get(_after(m, 5, {"store_id": store, "pos_txn_id": txn}), headers=own)
        assert r.status_code == 422, (store, txn, r.text)
        assert r.json()["detail"].startswith("before_pos_txn_id: not one of this member's purchases"), r.text
    # The member's oldest purchase named: the end of the list, not a refusal.
    [oldest] = (await members.get(_after(m, 1, offset=1), headers=own)).json()
    end = await members.get(_after(m, 5, oldest), headers=own)
    assert end.status_code == 200 and end.json() == []


@pytest.mark.parametrize(("sent", "missing"), [("before_store_id=S001", "before_pos_txn_id"),
                                                ("before_pos_txn_id=T-1", "before_store_id")])
async def test_a_purchase_to_page_after_is_named_by_both_before_parameters(members, env, sent, missing) -> None:
    m = await register(members, env)
    await deliver_sale(members, card_no=m["card_no"], txn="T-1")
    r = await members.get(f"/v1/members/{m['id']}/purchases?{sent}", headers=desk(env))
    assert r.status_code == 422 and [e["loc"] for e in r.json()["detail"]] == [["query", missing]], r.text
    assert "before_store_id and before_pos_txn_id together" in r.json()["detail"][0]["msg"]


async def test_one_sale_is_not_asked_for_with_a_page_position(members, env) -> None:
    m = await register(members, env)
    txn = await deliver_sale(members, card_no=m["card_no"])
    r = await members.get(f"/v1/members/{m['id']}/purchases?store_id=S001&pos_txn_id={txn}"
                          f"&before_store_id=S001&before_pos_txn_id={txn}", headers=desk(env))
    assert r.status_code == 422, r.text
    assert [e["loc"] for e in r.json()["detail"]] == [["query", "before_store_id"], ["query", "before_pos_txn_id"]]
    assert "not with store_id and pos_txn_id" in r.json()["detail"][0]["msg"]


async def test_one_sale_is_listed_only_among_its_own_members_purchases(members, env) -> None:
    m, other = await register(members, env), await register(members, env)
    txn = await deliver_sale(members, card_no=m["card_no"])
    [sale] = (await members.get(f"/v1/members/{m['id']}/purchases", headers=desk(env))).json()

    def asked(member: dict, store_id: str, pos_txn_id: str) -> str:
        return f"/v1/members/{member['id']}/purchases?store_id={store_id}&pos_txn_id={pos_txn_id}"

    mine = await members.get(asked(m, sale["store_id"], txn), headers=env.auth(Role.MEMBER, member_id=m["id"]))
    assert mine.status_code == 200 and [p["pos_txn_id"] for p in mine.json()] == [txn]
    assert (await members.get(asked(m, "S999", txn), headers=desk(env))).json() == []
    assert (await members.get(asked(other, sale["store_id"], txn), headers=env.auth(Role.MEMBER, member_id=other["id"]))).json() == []
    half = await members.get(f"/v1/members/{m['id']}/purchases?pos_txn_id={txn}", headers=desk(env))
    assert half.status_code == 422 and half.json()["detail"][0]["loc"] == ["query", "store_id"], half.text


async def test_a_members_purchases_carry_their_returns_with_what_was_refunded(members, env) -> None:
    m = await register(members, env)
    rice, oil = line(sku="rice", qty="2", unit_price="50.00"), line(sku="oil", qty="1", unit_price="80.00")
    txn = await deliver_sale(members, card_no=m["card_no"], lines=[rice, oil])
    refund = await deliver_refund(members, txn=txn, lines=[oil])
    r = await members.get(f"/v1/members/{m['id']}/purchases", headers=env.auth(Role.MEMBER, member_id=m["id"]))
    assert r.status_code == 200, r.text
    [purchase] = r.json()
    [ret] = purchase["returns"]
    assert (ret["refund_id"], Decimal(ret["amount"]), Decimal(ret["refunded"])) == (refund, Decimal("80.00"), Decimal("80.00"))
    assert [ln["sku"] for ln in ret["lines"]] == ["oil"]


async def test_a_members_overview_is_the_profile_and_latest_purchases_as_each_route_gives_them(members, env) -> None:
    m = await register(members, env, home_store_id="S001")
    txns = [await deliver_sale(members, card_no=m["card_no"], occurred_at=datetime(2026, 11, day, 10, tzinfo=UTC))
            for day in (20, 21, 22)]
    for headers in (env.auth(Role.MEMBER, member_id=m["id"]), desk(env), env.auth(Role.MARKETING)):
        r = await members.get(f"/v1/members/{m['id']}/overview?purchases=2", headers=headers)
        assert r.status_code == 200, r.text
        profile = (await members.get(f"/v1/members/{m['id']}", headers=headers)).json()
        purchases = (await members.get(f"/v1/members/{m['id']}/purchases?limit=2", headers=headers)).json()
        assert r.json() == {"member": profile, "recent_purchases": purchases}
    assert [p["pos_txn_id"] for p in purchases] == [txns[2], txns[1]]
    assert "*" in r.json()["member"]["phone"]  # marketing: contact details masked, as on the profile route
    # A clear read is logged as the profile route logs it.
    log = (await members.get("/v1/privacy/access-log", params={"member_id": m["id"]}, headers=env.auth(Role.ADMIN))).json()
    assert [e["purpose"] for e in log["items"]].count("members.read") == 4  # member and desk, each route
    other = await register(members, env)
    assert (await members.get(f"/v1/members/{other['id']}/overview", headers=env.auth(Role.MEMBER, member_id=m["id"]))).status_code == 403
    assert (await members.get("/v1/members/no-such-member/overview", headers=desk(env))).status_code == 404
    bad = await members.get(f"/v1/members/{m['id']}/overview?purchases=0", headers=desk(env))
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "purchases"]


async def test_a_store_channel_or_community_changed_by_staff_is_announced_to_the_other_services(members, env) -> None:
    m = await register(members, env, phone="13912345070")
    admin = env.auth(Role.ADMIN)
    # A name is members' alone: nothing to announce.
    assert (await members.patch(f"/v1/members/{m['id']}", json={"name": "王芳"}, headers=admin)).status_code == 200
    assert await outbox(members, "crm.members.member_profile_changed.v1") == []
    moved = await members.patch(f"/v1/members/{m['id']}", json={"home_store_id": "S002", "channel": "partner"}, headers=admin)
    assert moved.status_code == 200, moved.text
    [row] = await outbox(members, "crm.members.member_profile_changed.v1")
    data = json.loads(row.envelope)["data"]
    assert (data["member_id"], data["home_store_id"], data["channel"]) == (m["id"], "S002", "partner")
    assert data["community_id"] == moved.json()["community_id"] and set(data) == {
        "member_id", "changed_at", "home_store_id", "channel", "community_id", "card_no"}  # ids, no personal data
    assert row.key == m["id"]
