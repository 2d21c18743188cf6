"""Members sign in to the app with a code sent by SMS (through campaigns' sender, read here from its
local outbox), or sign up with it, through the gateway wired to members and campaigns on the test's
backend. Nothing tells a member's phone from a stranger's; every bad code is the same 401; codes
and wrong guesses are throttled; refresh tokens rotate, and a reused one ends its sign-in; an
erased member's tokens are refused and none is issued."""

import asyncio
from contextlib import AsyncExitStack
from datetime import date, timedelta

import httpx
import pytest
from sqlmodel import select

from gateway.adapters.clients import Downstream
from gateway.adapters.member_tables import MemberSignInCodeRow
from gateway.config import Settings as GatewaySettings
from gateway.main import create_app as gateway_app
from shared.auth import Role, TokenVerifier
from shared.events import contracts as c
from shared.events.envelope import new_event
from shared.events.registry import MEMBER_ERASED
from tests.support.factories import member_body
from tests.support.identity import MovableClock
from tests.support.platform import TestEnv, away, service

pytestmark = pytest.mark.integration


class SignIn:
    def __init__(self, gateway: httpx.AsyncClient, members: httpx.AsyncClient, campaigns: httpx.AsyncClient,
                 env: TestEnv, clock: MovableClock) -> None:
        self.gateway, self.members, self.campaigns, self.env, self.clock = gateway, members, campaigns, env, clock

    async def ask(self, phone: str) -> httpx.Response:
        return await self.gateway.post("/identity/v1/members/code", json={"phone": phone})

    async def code_sent_to(self, phone: str) -> str:
        """The newest code the local outbox shows for the (masked) number, as an operator reads it."""
        r = await self.campaigns.get("/v1/outbox", headers=self.env.auth(Role.OPERATOR))
        masked = f"{phone[:3]}****{phone[-4:]}"
        text = next(e["text"] for e in r.json() if e["recipient"] == masked)
        return next(word for word in text.replace("，", " ").replace("：", " ").split() if word.isdigit() and len(word) == 6)

    async def token(self, phone: str, code: str) -> httpx.Response:
        return await self.gateway.post("/identity/v1/members/token", json={"phone": phone, "code": code})

    async def register(self, phone: str, code: str, **fields) -> httpx.Response:
        body = {**member_body(phone=phone, consents={"sms": True}), "code": code, **fields}
        del body["channel"]
        return await self.gateway.post("/identity/v1/members/register", json=body)

    async def member(self, **fields) -> dict:
        r = await self.members.post("/v1/members", json=member_body(**fields),
                                    headers=self.env.auth(Role.SERVICE_DESK, store_id="S001"))
        assert r.status_code == 201, r.text
        return r.json()


@pytest.fixture
async def sign_in(env: TestEnv, database_factory):
    from campaigns.config import Settings as CampaignsSettings
    from campaigns.main import create_app as campaigns_app
    from members.config import Settings as MembersSettings
    from members.main import create_app as members_app

    clock = MovableClock()
    async with AsyncExitStack() as stack:
        members = await stack.enter_async_context(service(members_app(env.settings(MembersSettings, await database_factory("members")))))
        campaigns = await stack.enter_async_context(service(campaigns_app(env.settings(CampaignsSettings, await database_factory("campaigns")))))
        app = gateway_app(env.settings(
            GatewaySettings, await database_factory("gateway"), member_codes_per_phone=3, member_codes_per_address=6,
            member_wrong_codes_per_address=12,
        ), clock=clock)
        app.state.downstream = Downstream(
            members=httpx.AsyncClient(transport=httpx.ASGITransport(app=members.app), base_url="http://members"),  # type: ignore[attr-defined]
            points=away("http://127.0.0.1:1"),
            campaigns=httpx.AsyncClient(transport=httpx.ASGITransport(app=campaigns.app), base_url="http://campaigns"),  # type: ignore[attr-defined]
        )
        gateway = await stack.enter_async_context(service(app))
        yield SignIn(gateway, members, campaigns, env, clock)


def claims(env: TestEnv, token: str):
    return TokenVerifier(env.public_key, "crm-identity", "crm").verify(token)


async def test_a_member_signs_in_with_the_code_from_the_sms(sign_in, env) -> None:
    m = await sign_in.member()
    r = await sign_in.ask(m["phone"])
    assert r.status_code == 202, r.text
    assert r.json() == {"detail": "a code is on its way to this phone by SMS", "expires_in": 300}

    r = await sign_in.token(m["phone"], await sign_in.code_sent_to(m["phone"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["token_type"], body["expires_in"], body["member_id"]) == ("Bearer", 3600, m["id"])
    assert body["refresh_expires_in"] == 30 * 86400 and len(body["refresh_token"]) >= 43
    assert r.headers["cache-control"] == "no-store"
    principal = claims(env, body["access_token"])
    assert (principal.role, principal.member_id) == (Role.MEMBER, m["id"])
    # The token reads the member's own profile through the gateway, and nobody else's.
    mine = await sign_in.gateway.get(f"/api/v1/members/{m['id']}", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert mine.status_code == 200, mine.text
    other = await sign_in.member()
    theirs = await sign_in.gateway.get(f"/api/v1/members/{other['id']}", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert theirs.status_code == 403


async def test_the_code_request_answers_alike_for_a_member_and_a_stranger_and_keeps_no_number(sign_in) -> None:
    m = await sign_in.member()
    known, unknown = await sign_in.ask(m["phone"]), await sign_in.ask("13700007777")
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    # A stranger gets a code too: signing up needs it.
    assert await sign_in.code_sent_to("13700007777")
    async with sign_in.gateway.app.state.sessions() as session:  # type: ignore[attr-defined]
        rows = (await session.exec(select(MemberSignInCodeRow))).all()
    assert len(rows) == 2
    stored = " ".join(str(v) for row in rows for v in row.model_dump().values())
    assert m["phone"] not in stored and "13700007777" not in stored


# Without Accept-Language, `message` is the Chinese one.
BAD_CODE = {"detail": "the code is not valid; ask for a new one if it has expired",
            "message_zh": "验证码不正确或已失效，请核对后重试，或重新获取验证码。", "message": "验证码不正确或已失效，请核对后重试，或重新获取验证码。",
            "message_en": "The code is wrong or no longer valid; check it, or ask for a new one."}


@pytest.mark.parametrize("case", ["wrong", "used", "expired", "exhausted", "replaced", "never asked"])
async def test_every_bad_code_is_the_same_401(sign_in, case) -> None:
    m = await sign_in.member()
    await sign_in.ask(m["phone"])
    code = await sign_in.code_sent_to(m["phone"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    phone = m["phone"]
    if case == "wrong":
        code = wrong
    elif case == "used":
        assert (await sign_in.token(phone, code)).status_code == 200
    elif case == "expired":
        sign_in.clock.now += timedelta(minutes=5)
    elif case == "exhausted":
        for _ in range(5):
            assert (await sign_in.token(phone, wrong)).status_code == 401
    elif case == "replaced":
        await sign_in.ask(phone)
        fresh = await sign_in.code_sent_to(phone)
        if fresh == code:  # one in a million: the new code happens to be the old one; ask once more
            await sign_in.ask(phone)
            fresh = await sign_in.code_sent_to(phone)
        assert fresh != code
    elif case == "never asked":
        phone = "13700000009"
    r = await sign_in.token(phone, code)
    assert (r.status_code, r.json()) == (401, BAD_CODE)


async def test_a_right_code_for_a_stranger_is_404_and_still_signs_them_up(sign_in, env) -> None:
    phone = "13700001234"
    await sign_in.ask(phone)
    code = await sign_in.code_sent_to(phone)
    r = await sign_in.token(phone, code)
    assert r.status_code == 404 and "sign up" in r.json()["detail"]

    r = await sign_in.register(phone, code, name="赵六")
    assert r.status_code == 200, r.text
    member_id = r.json()["member_id"]
    assert claims(env, r.json()["access_token"]).member_id == member_id
    profile = (await sign_in.members.get(f"/v1/members/{member_id}", headers=env.auth(Role.ADMIN))).json()
    assert (profile["phone"], profile["name"]) == (phone, "赵六")
    assert profile["consents"]["marketing_sms"]["channel"] == "app"
    # The code is used now: neither a sign-in nor another sign-up takes it again.
    assert (await sign_in.token(phone, code)).status_code == 401
    assert (await sign_in.register(phone, code)).status_code == 401


async def test_a_sign_up_takes_the_consents_by_the_names_the_profile_gives_them(sign_in, env) -> None:
    # The app reads and changes consents as marketing_sms and marketing_email (PUT /app/v1/me/consents),
    # and a desk's registration at members takes those names too; the app's sign-up refused them.
    phone = "13700001235"
    await sign_in.ask(phone)
    r = await sign_in.register(phone, await sign_in.code_sent_to(phone),
                               consents={"marketing_sms": False, "marketing_email": True, "service_tips_sms": True})
    assert r.status_code == 200, r.text
    profile = (await sign_in.members.get(f"/v1/members/{r.json()['member_id']}", headers=env.auth(Role.ADMIN))).json()
    answered = {purpose: (state["granted"], state["channel"]) for purpose, state in profile["consents"].items() if state}
    assert answered == {"marketing_sms": (False, "app"), "marketing_email": (True, "app"), "service_tips_sms": (True, "app")}


async def test_signing_up_with_a_members_phone_answers_like_a_sign_in(sign_in) -> None:
    m = await sign_in.member()
    await sign_in.ask(m["phone"])
    r = await sign_in.register(m["phone"], await sign_in.code_sent_to(m["phone"]), name="冒名")
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in", "member_id"}
    assert r.json()["member_id"] == m["id"]


async def test_a_sign_up_with_a_bad_code_registers_nobody_and_bad_fields_are_422(sign_in, env) -> None:
    phone = "13700004321"
    await sign_in.ask(phone)
    code = await sign_in.code_sent_to(phone)
    assert (await sign_in.register(phone, "000000" if code != "000000" else "111111")).status_code == 401
    r = await sign_in.members.get("/v1/members", params={"phone": phone}, headers=env.auth(Role.ADMIN))
    assert r.json()["total"] == 0
    r = await sign_in.register(phone, code, address=" ")
    assert r.status_code == 422 and "address" in r.text
    r = await sign_in.register(phone, code, email="not-an-address")
    assert r.status_code == 422 and "email" in r.text
    # A "no" under a name no consent has would be dropped, and the customer texted against their answer.
    r = await sign_in.register(phone, code, consents={"wechat": False})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "consents", "wechat"], r.text
    r = await sign_in.register(phone, code, consents={"marketing_sms": False, "sms": True})
    assert r.status_code == 422 and "same consent" in r.text
    r = await sign_in.gateway.post("/identity/v1/members/token", json={"phone": phone, "code": "12345"})
    assert r.status_code == 422 and "code" in r.text


async def test_a_home_store_the_chain_does_not_have_is_422_and_the_code_still_signs_up(sign_in, env) -> None:
    # Such a member could never reserve a gift: nothing is stocked at a store that does not exist.
    phone = "13700004323"
    await sign_in.ask(phone)
    code = await sign_in.code_sent_to(phone)
    r = await sign_in.register(phone, code, home_store_id="S999")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "home_store_id"], r.text
    r = await sign_in.members.get("/v1/members", params={"phone": phone}, headers=env.auth(Role.ADMIN))
    assert r.json()["total"] == 0
    assert (await sign_in.register(phone, code)).status_code == 200


async def test_a_birthday_in_the_future_is_422_in_the_shape_of_body_validation(sign_in, env) -> None:
    phone = "13700004322"
    await sign_in.ask(phone)
    code = await sign_in.code_sent_to(phone)
    # Members checks it against its own clock, and answers it as a string ("birthday: ..."); the
    # sign-up answers every bad field alike, as body validation does.
    r = await sign_in.register(phone, code, birthday=(date.today() + timedelta(days=2)).isoformat())
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == [
        {"loc": ["body", "birthday"], "msg": "birthday is in the future", "type": "value_error", "input": None}]
    # A field the schema checks answers the same shape.
    r = await sign_in.register(phone, code, birthday="1990-13-01")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "birthday"]
    r = await sign_in.members.get("/v1/members", params={"phone": phone}, headers=env.auth(Role.ADMIN))
    assert r.json()["total"] == 0
    # Members' refusal gave the code back: the corrected form signs up with it.
    assert (await sign_in.register(phone, code, birthday="1990-12-01")).status_code == 200


@pytest.mark.parametrize("home", ["", " ", "不存在的门店", "S 001"])
async def test_a_home_store_that_is_no_store_id_is_422_naming_it(sign_in, env, home: str) -> None:
    phone = "13700004324"
    await sign_in.ask(phone)
    r = await sign_in.register(phone, await sign_in.code_sent_to(phone), home_store_id=home)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "home_store_id"], r.text


async def test_of_sign_ups_sent_at_once_with_one_code_only_the_one_answered_200_takes_effect(sign_in, env) -> None:
    phone = "13700004325"
    await sign_in.ask(phone)
    code = await sign_in.code_sent_to(phone)
    answers = await asyncio.gather(*(sign_in.register(phone, code, consents={"sms": i % 2 == 0}) for i in range(6)))
    assert sorted(r.status_code for r in answers) == [200] + [401] * 5, [r.text for r in answers]
    accepted = next(i for i, r in enumerate(answers) if r.status_code == 200)
    r = await sign_in.members.get(f"/v1/members/{answers[accepted].json()['member_id']}/consents", headers=env.auth(Role.ADMIN))
    sms = [entry for entry in r.json()["history"] if entry["purpose"] == "marketing_sms"]
    # The customer's answer is the one of the request that was accepted; the refused ones recorded nothing.
    assert [entry["granted"] for entry in sms] == [accepted % 2 == 0], r.json()


async def test_members_unreachable_at_sign_up_is_a_503_and_the_code_still_signs_up(sign_in) -> None:
    phone = "13700004326"
    await sign_in.ask(phone)
    code = await sign_in.code_sent_to(phone)
    downstream = sign_in.gateway.app.state.downstream  # type: ignore[attr-defined]
    reachable, downstream.members = downstream.members, away("http://127.0.0.1:1")
    r = await sign_in.register(phone, code)
    assert r.status_code == 503, r.text
    downstream.members = reachable
    assert (await sign_in.register(phone, code)).status_code == 200


async def test_digits_of_other_scripts_are_422_not_another_phone_or_code(sign_in) -> None:
    # A number in Arabic-Indic digits would be a phone of its own to the per-phone limit (five more
    # codes an hour to the same handset) and a stranger to members' look-up.
    r = await sign_in.ask("13٨٠٠١٣٨٠٠٠")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "phone"], r.text
    r = await sign_in.token("13800138000", "١٢٣٤٥٦")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "code"], r.text
    assert not any(e["recipient"].startswith("13٨") for e in (
        await sign_in.campaigns.get("/v1/outbox", headers=sign_in.env.auth(Role.OPERATOR))).json())


async def test_a_phone_typed_in_full_width_digits_is_the_same_phone_to_the_code_limit(sign_in) -> None:
    # An input method left in full-width mode types the same number: its codes count against that
    # handset's limit, and each code goes to that number.
    for typed in ("13700006666", "13７００００６６６６", "１３７００００６６６６"):
        assert (await sign_in.ask(typed)).status_code == 202
    r = await sign_in.ask("13700006666")
    assert r.status_code == 429, r.text
    recipients = [e["recipient"] for e in (
        await sign_in.campaigns.get("/v1/outbox", headers=sign_in.env.auth(Role.OPERATOR))).json()]
    assert recipients.count("137****6666") == 3, recipients  # the outbox shows numbers masked


async def test_codes_are_throttled_per_phone_with_retry_after(sign_in) -> None:
    for _ in range(3):
        assert (await sign_in.ask("13700005555")).status_code == 202
    r = await sign_in.ask("13700005555")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert (await sign_in.ask("13700005556")).status_code == 202


async def test_codes_are_throttled_per_address(sign_in) -> None:
    for n in range(6):
        assert (await sign_in.ask(f"1370000600{n}")).status_code == 202
    r = await sign_in.ask("13700006009")
    assert r.status_code == 429 and "retry-after" in r.headers


async def test_wrong_codes_are_throttled_per_address_even_across_phones(sign_in) -> None:
    phones = [f"1370000700{n}" for n in range(3)]
    for phone in phones:
        await sign_in.ask(phone)
        code = await sign_in.code_sent_to(phone)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(4):
            assert (await sign_in.token(phone, wrong)).status_code == 401
    r = await sign_in.token(phones[0], "123456")
    assert r.status_code == 429 and "retry-after" in r.headers


async def test_wrong_codes_sent_at_once_are_judged_no_more_than_the_address_allows(sign_in) -> None:
    # 12 wrong codes an hour per address here: a burst of 20 at once gets no more than 12 judged.
    phone = "13700007100"
    await sign_in.ask(phone)
    code = await sign_in.code_sent_to(phone)
    guesses = [f"{(int(code) + n) % 1_000_000:06d}" for n in range(1, 21)]
    answers = await asyncio.gather(*(sign_in.token(f"1370000720{n % 10}", guess) for n, guess in enumerate(guesses)))
    assert sorted(r.status_code for r in answers) == [401] * 12 + [429] * 8, [r.status_code for r in answers]


async def test_an_erased_member_is_refused_at_the_gateway_and_signed_in_no_more(sign_in, env) -> None:
    m = await sign_in.member()
    await sign_in.ask(m["phone"])
    token = (await sign_in.token(m["phone"], await sign_in.code_sent_to(m["phone"]))).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await sign_in.gateway.get(f"/api/v1/members/{m['id']}", headers=bearer)).status_code == 200

    consumer = sign_in.gateway.app.state.consumer  # type: ignore[attr-defined]
    erased = new_event(MEMBER_ERASED, c.MemberErasedV1(member_id=m["id"], erased_at=sign_in.clock.now),
                       source="crm/members", subject=m["id"])
    await consumer.apply_batch([consumer.delivery(erased)])
    r = await sign_in.gateway.get(f"/api/v1/members/{m['id']}", headers=bearer)
    assert r.status_code == 401 and "erased" in r.text
    # A token minted elsewhere (`crm token`) for the member is refused too.
    assert (await sign_in.gateway.get(f"/api/v1/members/{m['id']}",
                                      headers=env.auth(Role.MEMBER, member_id=m["id"]))).status_code == 401

    # Another replica learns it from the table at its next reload: the job, run by hand on this
    # replica made to know nothing (as if its own erasure were out of the window).
    sign_in.gateway.app.state.revoked_members.replace(set(), since=sign_in.clock.now)  # type: ignore[attr-defined]
    assert (await sign_in.gateway.get(f"/api/v1/members/{m['id']}", headers=bearer)).status_code == 200
    r = await sign_in.gateway.post("/v1/jobs/member-revocations/run", headers=env.auth(Role.ADMIN))
    assert r.status_code == 200 and r.json()["newly_revoked"] == 1, r.text
    assert (await sign_in.gateway.get(f"/api/v1/members/{m['id']}", headers=bearer)).status_code == 401


async def test_the_sender_failing_is_a_503_and_no_code_is_stored(sign_in) -> None:
    class Refusing:
        async def send(self, message):
            from campaigns.adapters.outgoing import TransportError
            raise TransportError("aliyun: isv.BUSINESS_LIMIT_CONTROL")

    sign_in.campaigns.app.state.providers.sms = Refusing()  # type: ignore[attr-defined]
    r = await sign_in.ask("13700008888")
    assert r.status_code == 503, r.text
    assert "13700008888" not in r.text
    async with sign_in.gateway.app.state.sessions() as session:  # type: ignore[attr-defined]
        assert (await session.exec(select(MemberSignInCodeRow))).all() == []


async def signed_in(sign_in) -> tuple[dict, dict]:
    m = await sign_in.member()
    await sign_in.ask(m["phone"])
    r = await sign_in.token(m["phone"], await sign_in.code_sent_to(m["phone"]))
    assert r.status_code == 200, r.text
    return m, r.json()


async def refresh(sign_in, token: str) -> httpx.Response:
    return await sign_in.gateway.post("/identity/v1/members/refresh", json={"refresh_token": token})


REFUSED = {"detail": "the refresh token is not valid; sign in with a new code",
           "message_zh": "登录已失效，请用短信验证码重新登录。", "message": "登录已失效，请用短信验证码重新登录。",
           "message_en": "Your sign-in has ended; please sign in again with a code sent by text message."}


async def test_a_refresh_token_works_once_and_gives_the_next_pair(sign_in, env) -> None:
    m, first = await signed_in(sign_in)
    r = await refresh(sign_in, first["refresh_token"])
    assert r.status_code == 200, r.text
    second = r.json()
    assert r.headers["cache-control"] == "no-store"
    assert second["member_id"] == m["id"] and second["refresh_token"] != first["refresh_token"]
    assert claims(env, second["access_token"]).member_id == m["id"]
    r = await refresh(sign_in, second["refresh_token"])
    assert r.status_code == 200, r.text


async def test_a_reused_refresh_token_ends_the_whole_sign_in(sign_in) -> None:
    _, first = await signed_in(sign_in)
    second = (await refresh(sign_in, first["refresh_token"])).json()
    # The first token again, past the grace of a retry: a copy is in someone else's hands. Both
    # holders are cut off.
    sign_in.clock.now += timedelta(seconds=61)
    r = await refresh(sign_in, first["refresh_token"])
    assert (r.status_code, r.json()) == (401, REFUSED)
    r = await refresh(sign_in, second["refresh_token"])
    assert (r.status_code, r.json()) == (401, REFUSED)


async def test_another_sign_in_of_the_member_is_not_touched_by_a_reuse(sign_in) -> None:
    m, phone_a = await signed_in(sign_in)
    await sign_in.ask(m["phone"])
    phone_b = (await sign_in.token(m["phone"], await sign_in.code_sent_to(m["phone"]))).json()
    await refresh(sign_in, phone_a["refresh_token"])
    sign_in.clock.now += timedelta(seconds=61)
    assert (await refresh(sign_in, phone_a["refresh_token"])).status_code == 401
    assert (await refresh(sign_in, phone_b["refresh_token"])).status_code == 200


async def test_a_refresh_whose_answer_was_lost_is_answered_again_moments_later(sign_in) -> None:
    _, first = await signed_in(sign_in)
    lost = (await refresh(sign_in, first["refresh_token"])).json()  # the answer never reached the phone
    sign_in.clock.now += timedelta(seconds=20)
    r = await refresh(sign_in, first["refresh_token"])
    assert r.status_code == 200, r.text
    again = r.json()
    assert again["refresh_token"] != lost["refresh_token"]
    # The sign-in goes on with the one the phone got.
    assert (await refresh(sign_in, again["refresh_token"])).status_code == 200


async def test_the_token_of_an_answer_taken_for_lost_presented_after_all_ends_the_whole_sign_in(sign_in) -> None:
    # A thief replays the phone's used token within the retry's grace: taken for the phone's retry,
    # it gets a pair, and the phone's own next token is superseded. When the phone presents it, two
    # holders are found out: the thief's chain ends too.
    _, first = await signed_in(sign_in)
    phone = (await refresh(sign_in, first["refresh_token"])).json()
    sign_in.clock.now += timedelta(seconds=5)
    thief = (await refresh(sign_in, first["refresh_token"])).json()
    r = await refresh(sign_in, phone["refresh_token"])
    assert (r.status_code, r.json()) == (401, REFUSED)
    assert (await refresh(sign_in, thief["refresh_token"])).status_code == 401


async def test_a_token_presented_again_after_its_family_went_on_is_reuse_even_moments_later(sign_in) -> None:
    _, first = await signed_in(sign_in)
    second = (await refresh(sign_in, first["refresh_token"])).json()
    third = (await refresh(sign_in, second["refresh_token"])).json()
    # The phone had the answer (it used it): the first token again is a copy's.
    r = await refresh(sign_in, first["refresh_token"])
    assert (r.status_code, r.json()) == (401, REFUSED)
    assert (await refresh(sign_in, third["refresh_token"])).status_code == 401


@pytest.mark.parametrize("case", ["unknown", "expired", "logged out"])
async def test_unknown_expired_and_logged_out_refresh_tokens_are_the_same_401(sign_in, case) -> None:
    _, pair = await signed_in(sign_in)
    token = pair["refresh_token"]
    if case == "unknown":
        token = "x" * 43
    elif case == "expired":
        sign_in.clock.now += timedelta(days=30)
    else:
        r = await sign_in.gateway.post("/identity/v1/members/logout", json={"refresh_token": token})
        assert r.status_code == 204
    r = await refresh(sign_in, token)
    assert (r.status_code, r.json()) == (401, REFUSED)


async def test_logout_answers_alike_for_any_token(sign_in) -> None:
    r = await sign_in.gateway.post("/identity/v1/members/logout", json={"refresh_token": "not-a-token"})
    assert r.status_code == 204
    r = await sign_in.gateway.post("/identity/v1/members/logout", json={"refresh_token": ""})
    assert r.status_code == 422 and "refresh_token" in r.text


async def test_erasure_ends_the_members_refresh_tokens(sign_in) -> None:
    m, pair = await signed_in(sign_in)
    consumer = sign_in.gateway.app.state.consumer  # type: ignore[attr-defined]
    erased = new_event(MEMBER_ERASED, c.MemberErasedV1(member_id=m["id"], erased_at=sign_in.clock.now),
                       source="crm/members", subject=m["id"])
    await consumer.apply_batch([consumer.delivery(erased)])
    r = await refresh(sign_in, pair["refresh_token"])
    assert (r.status_code, r.json()) == (401, REFUSED)


async def test_erasure_from_the_app_ends_the_sign_in_at_once_before_the_event_arrives(sign_in) -> None:
    _, pair = await signed_in(sign_in)
    r = await sign_in.gateway.post("/app/v1/me/erasure", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert r.status_code == 200, r.text
    # No member_erased event applied here: the answer itself ended the sign-in.
    r = await refresh(sign_in, pair["refresh_token"])
    assert (r.status_code, r.json()) == (401, REFUSED)
    assert (await sign_in.gateway.get("/app/v1/card", headers={"Authorization": f"Bearer {pair['access_token']}"})).status_code == 401


async def test_the_cleanup_job_forgets_expired_codes_and_refresh_tokens(sign_in, env) -> None:
    await signed_in(sign_in)
    await sign_in.ask("13700009999")  # a code never used
    sign_in.clock.now += timedelta(days=32)
    r = await sign_in.gateway.post("/v1/jobs/member-sign-in-cleanup/run", headers=env.auth(Role.ADMIN))
    assert r.status_code == 200, r.text
    assert (r.json()["codes"], r.json()["refresh_tokens"]) == (2, 1)



@pytest.mark.parametrize("language", ["zh", "en"])
async def test_each_refusal_of_signing_in_and_up_is_worded_for_the_customer(sign_in, language: str) -> None:
    """The app shows `message` (in the language it asked for) and keeps `detail` for its own code."""
    headers = {"Accept-Language": "en-GB,en;q=0.9" if language == "en" else "zh-CN,zh;q=0.9"}

    async def refused(path: str, body: dict, status: int, zh: str, en: str) -> dict:
        r = await sign_in.gateway.post(f"/identity/v1/members/{path}", json=body, headers=headers)
        assert r.status_code == status, r.text
        told = r.json()
        if status == 429:  # when to try again, from the answer's own Retry-After
            minutes = -(-int(r.headers["retry-after"]) // 60)
            zh, en = zh.format(minutes=minutes), en.format(minutes=minutes, s="s" if minutes > 1 else "")
        assert (told["message_zh"], told["message_en"]) == (zh, en)
        assert told["message"] == (en if language == "en" else zh) and r.headers["content-language"] == language
        return told

    stranger = "13700008888"
    assert (await sign_in.gateway.post("/identity/v1/members/code", json={"phone": stranger}, headers=headers)).status_code == 202
    code = await sign_in.code_sent_to(stranger)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    told = await refused("token", {"phone": stranger, "code": wrong}, 401, "验证码不正确或已失效，请核对后重试，或重新获取验证码。",
                         "The code is wrong or no longer valid; check it, or ask for a new one.")
    assert told["detail"] == "the code is not valid; ask for a new one if it has expired"
    told = await refused("token", {"phone": stranger, "code": code}, 404,
                         "该手机号尚未注册会员，请先注册。", "No membership uses this phone number yet; please sign up.")
    assert told["detail"] == "no member has this phone; sign up with POST /identity/v1/members/register and the same code"
    told = await refused("token", {"phone": stranger, "code": "12ab56"}, 422,
                         "填写的信息有误，请检查：验证码。", "Some details are not valid; please check: code.")
    assert [e["loc"] for e in told["detail"]] == [["body", "code"]]
    # A sign-up members refuses (a birthday to come) names the field too, its detail the list validation gives.
    body = {**member_body(phone=stranger), "code": code, "birthday": (date.today() + timedelta(days=30)).isoformat()}
    del body["channel"]
    told = await refused("register", body, 422, "填写的信息有误，请检查：生日。", "Some details are not valid; please check: birthday.")
    assert [e["loc"] for e in told["detail"]] == [["body", "birthday"]]
    told = await refused("refresh", {"refresh_token": "never-issued"}, 401, "登录已失效，请用短信验证码重新登录。",
                         "Your sign-in has ended; please sign in again with a code sent by text message.")
    assert told["detail"] == "the refresh token is not valid; sign in with a new code"
    # The phone's third code is sent, the fourth refused until the window moves on.
    for _ in range(2):
        assert (await sign_in.ask(stranger)).status_code == 202
    told = await refused("code", {"phone": stranger}, 429, "获取验证码的次数过多，请 {minutes} 分钟后再试。",
                         "Too many codes were asked for; please try again in {minutes} minute{s}.")
    assert told["detail"] == "too many codes asked for; retry later"
