"""The till's points preview refuses what it would otherwise silently ignore, and passes the
basket's discounts on: points are earned on what is paid. It names the customer as the sale does,
by card or by phone; a phone is asked of members and never reaches points, a log or the till's answer
as anything but what points said."""

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role, TokenVerifier
from tests.support.factories import line, member_body
from tests.support.identity import answering
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration

CARD = "8800000012345"
PHONE = "13912345678"


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    settings = env.settings(Settings, await database_factory("gateway"))
    async with service(create_app(settings)) as client:
        # The till's store, open: a closed store's basket is refused as its sale is.
        r = await client.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=env.auth(Role.ADMIN))
        assert r.status_code == 200, r.text
        yield client


async def test_a_card_sent_as_a_sales_member_is_422_naming_the_field(gateway, env: TestEnv) -> None:
    # Ignored, it made the preview answer for no card at all: member_known false, retail rates.
    basket = {"store_id": "S001", "member": {"card_no": "8800000012345"}, "lines": [line()]}
    r = await gateway.post("/pos/v1/points/preview", json=basket, headers=env.auth(Role.POS, store_id="S001"))
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "member"] and error["type"] == "extra_forbidden"


async def test_a_basket_no_sale_could_carry_is_422_as_its_sale_would_be(gateway, env: TestEnv) -> None:
    # 500 lines of 999,999,999,999.99: a total of 15 integer digits, which a sale's total may not be.
    basket = {"store_id": "S001", "card_no": CARD, "lines": [line(qty="1", unit_price="999999999999.99")] * 500}
    r = await gateway.post("/pos/v1/points/preview", json=basket, headers=env.auth(Role.POS, store_id="S001"))
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "lines"] and "add up to 499999999999995.00" in error["msg"], error


async def test_the_baskets_discounts_reach_points_checked_as_a_sales_are(gateway, env: TestEnv) -> None:
    sent: list[dict] = []

    def points(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"points": 69})

    async with answering(gateway, "points", points):
        pos = env.auth(Role.POS, store_id="S001")
        basket = {"store_id": "S001", "card_no": CARD, "lines": [line()], "coupons": ["K7QM2XWD9P"],
                  "discounts": [{"code": "K7QM2XWD9P", "amount": "10.00"}, {"amount": "0.80", "label": "会员价"}]}
        r = await gateway.post("/pos/v1/points/preview", json=basket, headers=pos)
        assert r.status_code == 200, r.text
        assert sent[0]["discount"] == "10.80" and sent[0]["lines"][0]["amount"] == "79.80"
        stray = {**basket, "coupons": []}  # a coupon's discount without the coupon, as a sale refuses it
        r = await gateway.post("/pos/v1/points/preview", json=stray, headers=pos)
        assert r.status_code == 422 and "not among the sale's coupons" in r.text
        assert len(sent) == 1


async def test_a_basket_dated_beyond_the_clock_skew_is_422_as_its_sale_would_be(gateway, env: TestEnv) -> None:
    # Passed on, it was priced by whatever rule is in force then (one not yet in force today),
    # for a sale the gateway then refuses; a till a little ahead is still answered.
    sent: list[dict] = []

    def points(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"points": 79})

    async with answering(gateway, "points", points):
        pos = env.auth(Role.POS, store_id="S001")
        skew = timedelta(seconds=gateway.app.state.settings.clock_skew_s)
        ahead = {"store_id": "S001", "card_no": CARD, "lines": [line()], "occurred_at": (datetime.now(UTC) + skew + timedelta(days=1)).isoformat()}
        r = await gateway.post("/pos/v1/points/preview", json=ahead, headers=pos)
        assert r.status_code == 422, r.text
        [error] = r.json()["detail"]
        assert error["loc"] == ["body", "occurred_at"] and "in the future beyond the allowed clock skew" in error["msg"]
        assert sent == []
        a_little = {**ahead, "occurred_at": (datetime.now(UTC) + skew / 2).isoformat()}
        r = await gateway.post("/pos/v1/points/preview", json=a_little, headers=pos)
        assert r.status_code == 200, r.text
        assert len(sent) == 1


@pytest.mark.parametrize(("failure", "status", "said"), [
    (httpx.ConnectError("refused"), 503, "points service unavailable: ConnectError"),
    (httpx.ReadTimeout("slow"), 504, "points service did not answer within 2.0s"),
])
async def test_points_away_is_503_and_points_too_slow_504(gateway, env: TestEnv, failure, status, said) -> None:
    # 504: the till's preview books nothing, but it must know the service was reached.
    def points(request: httpx.Request) -> httpx.Response:
        raise failure

    async with answering(gateway, "points", points):
        r = await gateway.post("/pos/v1/points/preview", json={"store_id": "S001", "card_no": CARD, "lines": [line()]},
                               headers=env.auth(Role.POS, store_id="S001"))
    assert (r.status_code, r.json()["detail"]) == (status, said)


async def test_a_basket_names_its_customer_by_card_or_by_phone_never_both(gateway, env: TestEnv) -> None:
    # With both, the preview would choose one silently.
    async with answering(gateway, "points", lambda _: httpx.Response(200, json={})) as to_points, \
            answering(gateway, "members", lambda _: httpx.Response(404, json={})) as to_members:
        r = await gateway.post("/pos/v1/points/preview", json={"store_id": "S001", "lines": [line()], "card_no": CARD, "phone": PHONE},
                               headers=env.auth(Role.POS, store_id="S001"))
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body"] and "give exactly one of card_no or phone" in error["msg"]
    assert PHONE not in r.text
    assert to_points == [] and to_members == []


async def test_a_basket_without_a_customer_is_previewed_at_retail_rates_as_an_unknown_card(gateway, env: TestEnv) -> None:
    # What the customer would earn by joining: tills show it to those without a card.
    to_points: list[dict] = []

    def points(request: httpx.Request) -> httpx.Response:
        to_points.append(json.loads(request.content))
        return httpx.Response(200, json={"points": 79, "channel": "retail", "member_known": False})

    async with answering(gateway, "points", points), answering(gateway, "members", lambda _: httpx.Response(500)) as to_members:
        r = await gateway.post("/pos/v1/points/preview", json={"store_id": "S001", "lines": [line()]},
                               headers=env.auth(Role.POS, store_id="S001"))
    assert (r.status_code, r.json()["member_known"]) == (200, False), r.text
    [sent] = to_points
    assert "card_no" not in sent and "member_id" not in sent
    assert to_members == []


async def test_a_phone_is_asked_of_members_and_points_hears_only_the_member(gateway, env: TestEnv, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    to_points: list[dict] = []

    def points(request: httpx.Request) -> httpx.Response:
        to_points.append(json.loads(request.content))
        return httpx.Response(200, json={"points": 79, "channel": "partner", "member_known": True})

    def members(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"member_id": "m-77", "created": False})

    till = env.auth(Role.POS, store_id="S001")
    async with answering(gateway, "points", points), answering(gateway, "members", members) as to_members:
        # Typed with an input method left in full-width mode: the same number, as for a sale.
        r = await gateway.post("/pos/v1/points/preview", json={"store_id": "S001", "phone": "１３９１２３４５６７８", "lines": [line()]},
                               headers=till)
    assert r.status_code == 200, r.text
    assert r.json() == {"points": 79, "channel": "partner", "member_known": True}
    [asked] = to_members
    assert (asked.method, asked.url.path, json.loads(asked.content)) == ("POST", "/v1/app-accounts/identify", {"phone": PHONE})
    assert PHONE not in str(asked.url)  # never in a URL: URLs end up in access logs
    # Asked as the gateway itself: a till's token may not ask whose number it is.
    asker = TokenVerifier(env.public_key, "crm-identity", "crm").verify(asked.headers["Authorization"].removeprefix("Bearer "))
    assert (asker.role, asker.subject) == (Role.SERVICE, "gateway")
    [sent] = to_points
    assert sent["member_id"] == "m-77" and "card_no" not in sent and PHONE not in json.dumps(sent)
    assert PHONE not in caplog.text and "１３９１２３４５６７８" not in caplog.text


async def test_a_phone_that_is_nobodys_answers_as_an_unknown_card(gateway, env: TestEnv) -> None:
    to_points: list[dict] = []

    def points(request: httpx.Request) -> httpx.Response:
        to_points.append(json.loads(request.content))
        return httpx.Response(200, json={"points": 79, "channel": "retail", "member_known": False})

    till = env.auth(Role.POS, store_id="S001")
    async with answering(gateway, "points", points), \
            answering(gateway, "members", lambda _: httpx.Response(404, json={"detail": "no member has this phone"})):
        by_phone = await gateway.post("/pos/v1/points/preview", json={"store_id": "S001", "phone": PHONE, "lines": [line()]},
                                      headers=till)
        by_card = await gateway.post("/pos/v1/points/preview", json={"store_id": "S001", "card_no": "8800000099991", "lines": [line()]},
                                     headers=till)
    assert (by_phone.status_code, by_phone.json()) == (by_card.status_code, by_card.json())
    # Points is asked for no customer, and answers as it does for a card it does not know.
    phone_sent, card_sent = to_points
    assert "card_no" not in phone_sent and "member_id" not in phone_sent
    assert phone_sent == {k: v for k, v in card_sent.items() if k != "card_no"}


async def test_members_away_is_503_naming_it_and_points_is_not_asked(gateway, env: TestEnv) -> None:
    def members(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    async with answering(gateway, "points", lambda _: httpx.Response(200, json={})) as to_points, answering(gateway, "members", members):
        r = await gateway.post("/pos/v1/points/preview", json={"store_id": "S001", "phone": PHONE, "lines": [line()]},
                               headers=env.auth(Role.POS, store_id="S001"))
    assert (r.status_code, r.json()["detail"]) == (503, "members service unavailable: ConnectError")
    assert to_points == []


async def test_the_phone_finds_the_member_a_phone_sale_is_credited_to(env: TestEnv, database_factory) -> None:
    # The real members service: the gateway's own token may ask it, and it finds the member by the
    # phone's digest under the pepper, as it matches a sale paid by phone.
    from members.config import Settings as MembersSettings
    from members.main import create_app as members_app

    async with service(members_app(env.settings(MembersSettings, await database_factory("members")))) as members, \
            service(create_app(env.settings(Settings, await database_factory("gateway")))) as gateway:
        r = await gateway.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=env.auth(Role.ADMIN))
        assert r.status_code == 200, r.text
        r = await members.post("/v1/members", json=member_body(phone=PHONE), headers=env.auth(Role.SERVICE_DESK, store_id="S001"))
        assert r.status_code == 201, r.text
        member_id = r.json()["id"]
        to_points: list[dict] = []

        def points(request: httpx.Request) -> httpx.Response:
            to_points.append(json.loads(request.content))
            return httpx.Response(200, json={"member_known": True})

        wired = gateway.app.state.downstream  # type: ignore[attr-defined]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=members.app), base_url="http://members") as to_members:  # type: ignore[attr-defined]
            gateway.app.state.downstream = replace(wired, members=to_members)  # type: ignore[attr-defined]
            async with answering(gateway, "points", points):
                r = await gateway.post("/pos/v1/points/preview", json={"store_id": "S001", "phone": PHONE, "lines": [line()]},
                                       headers=env.auth(Role.POS, store_id="S001"))
            gateway.app.state.downstream = wired  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text
    assert to_points[0]["member_id"] == member_id


async def test_a_till_naming_more_phones_than_a_till_needs_is_429_and_cards_still_preview(env: TestEnv, database_factory) -> None:
    """Each answer tells whether a phone is a member's: a till is held to a budget of phones, as
    staff searching by phone are, so that no till token walks the numbers to find the members."""
    settings = env.settings(Settings, await database_factory("gateway"), till_phone_lookups=3)
    async with service(create_app(settings)) as gateway:
        assert (await gateway.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=env.auth(Role.ADMIN))).status_code == 200
        till, other_till = ({"Authorization": f"Bearer {env.issuer.mint(name, Role.POS, store_id='S001')}"}
                            for name in ("till-1", "till-2"))
        members_asked: list[httpx.Request] = []

        def members(request: httpx.Request) -> httpx.Response:
            members_asked.append(request)
            return httpx.Response(404, json={"detail": "no member has this phone"})

        async with answering(gateway, "points", lambda _: httpx.Response(200, json={"points": 79})), answering(gateway, "members", members):
            async def preview(headers: dict[str, str], **customer: str) -> httpx.Response:
                return await gateway.post("/pos/v1/points/preview", json={"store_id": "S001", "lines": [line()], **customer},
                                          headers=headers)

            answers = [await preview(till, phone=f"1391234567{i}") for i in range(4)]
            assert [r.status_code for r in answers] == [200, 200, 200, 429], [r.text for r in answers]
            refused = answers[-1]
            assert int(refused.headers["retry-after"]) > 0 and "at most 3 customers named by phone" in refused.json()["detail"]
            assert len(members_asked) == 3  # the fourth number was never looked up
            assert (await preview(till, card_no=CARD)).status_code == 200
            assert (await preview(other_till, phone=PHONE)).status_code == 200  # each till its own budget
