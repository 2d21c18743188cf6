"""The member app API against recorded downstream services: the member id always comes from the
token, answers are shaped for the app and paged with one cursor, GETs carry a strong ETag, and
refusals (the gateway's own and the services') come in Chinese and English."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from gateway.adapters.clients import Downstream
from gateway.config import Settings
from gateway.domain.app_cursors import cursor_of
from gateway.domain.app_messages import field_label
from gateway.domain.refusals import field_names
from gateway.main import create_app
from gateway.service_layer.app import receipt
from shared.auth import Role, TokenIssuer, TokenVerifier, generate_keypair
from tests.support.factories import keyed

pytestmark = pytest.mark.unit

ME = "member-0001"
PROFILE = {"id": ME, "card_no": "8800000012345678", "tier": "silver", "name": "李娜"}
EXPIRING = {"member_id": ME, "balance": 1250, "expiring": [{"expires_on": "2026-12-31", "points": 300},
                                                            {"expires_on": "2027-12-31", "points": 950}], "past_date": 0}


class StoreTable:
    """The gateway's store table as the app's views read it (names by id): every row it holds."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names, self.reads = names, 0

    @asynccontextmanager
    async def __call__(self, **_: object) -> AsyncIterator[SimpleNamespace]:
        self.reads += 1
        yield SimpleNamespace(session=self)

    async def exec(self, statement: object) -> SimpleNamespace:
        rows = [SimpleNamespace(store_id=store_id, name=name) for store_id, name in self.names.items()]
        return SimpleNamespace(all=lambda: rows)


class Service:
    """A downstream service answering by path; records every request."""

    def __init__(self, answers: dict[str, tuple[int, Any]]) -> None:
        self.answers, self.requests = answers, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.get(request.url.path, (404, {"detail": f"nothing at {request.url.path}"}))
        status, body = answer(request) if callable(answer) else answer
        return httpx.Response(status, json=body)


def names(answer: httpx.Response, field: str) -> bool:
    """The refusal names `field` where the app reads it (`detail`, by its code, or a part of it),
    and in words in both messages."""
    zh, en = field_label(field)
    named = field_names(answer.json()["detail"])
    return (any(name == field or name.startswith(f"{field}.") for name in named)
            and zh in answer.json()["message_zh"] and en in answer.json()["message_en"])


@pytest.fixture
def app_api(tmp_path: Path):
    private, public = generate_keypair()
    settings = Settings(environment="test", data_dir=tmp_path, jwt_public_key=public)
    app = create_app(settings)
    app.state.verifier = TokenVerifier(public, settings.jwt_issuer, settings.jwt_audience)
    app.state.commands = StoreTable({"S001": "城东大卖场"})
    services = {
        "members": Service({f"/v1/members/{ME}": (200, PROFILE)}),
        "points": Service({
            f"/v1/members/{ME}/expiring": (200, EXPIRING),
            f"/v1/members/{ME}/redemptions": (409, {"detail": "balance 10 is below the price 10000", "error": "RedemptionRefused"}),
            f"/v1/accounts/{ME}/ledger": (200, {"member_id": ME, "next_before_id": 7, "entries": [
                {"id": 8, "entry_type": "earn", "points": 120, "balance_after": 1250, "reason": "purchase", "source_ref": "s",
                 "source_event_id": None, "staff_id": None, "job_id": None, "occurred_at": "2026-11-30T02:15:00Z",
                 "booked_at": "2026-11-30T02:15:01Z"}]}),
        }),
        "feedback": Service({"/v1/complaints": (201, {"complaint_id": "c1", "status": "new"})}),
        "campaigns": Service({
            f"/v1/members/{ME}/coupons": (200, [{"coupon_id": f"cp{i}", "code": f"C{i}"} for i in range(5)]),
            f"/v1/members/{ME}/messages": (200, [{"id": f"m{i}"} for i in range(3)]),
        }),
    }
    app.state.downstream = Downstream(**{
        name: httpx.AsyncClient(transport=httpx.MockTransport(s), base_url=f"http://{name}") for name, s in services.items()
    })
    issuer = TokenIssuer(private)
    member = {"Authorization": f"Bearer {issuer.mint(ME, Role.MEMBER, member_id=ME)}"}
    desk = {"Authorization": f"Bearer {issuer.mint('desk', Role.SERVICE_DESK, store_id='S001')}"}
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")
    return client, services, member, desk


async def test_the_card_carries_the_card_number_as_the_barcode_payload_and_the_points_expiry(app_api) -> None:
    client, services, member, _ = app_api
    r = await client.get("/app/v1/card", headers=member)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["card_no"] == body["barcode"]["payload"] == body["qr"]["payload"] == "8800000012345678"
    assert body["points"]["balance"] == 1250
    assert body["points"]["next_expiry"] == {"expires_on": "2026-12-31", "points": 300}
    # Every downstream call carried the member's own token and named the token's member.
    for service in ("members", "points"):
        [call] = services[service].requests
        assert call.headers["authorization"] == member["Authorization"] and ME in call.url.path


async def test_a_get_has_a_strong_etag_of_its_body_and_if_none_match_is_304(app_api) -> None:
    client, _, member, _ = app_api
    first = await client.get("/app/v1/card", headers=member)
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["cache-control"] == "private, no-cache"
    again = await client.get("/app/v1/card", headers={**member, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other = await client.get("/app/v1/card", headers={**member, "If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.json() == first.json()


async def test_lists_are_paged_with_limit_and_an_opaque_cursor(app_api) -> None:
    client, services, member, _ = app_api
    page1 = (await client.get("/app/v1/coupons?limit=2", headers=member)).json()
    assert [c["code"] for c in page1["items"]] == ["C0", "C1"] and page1["next_cursor"] == cursor_of("cp1")
    last = (await client.get("/app/v1/coupons", params={"limit": 2, "cursor": cursor_of("cp3")}, headers=member)).json()
    assert [c["code"] for c in last["items"]] == ["C4"] and last["next_cursor"] is None
    messages = (await client.get("/app/v1/messages", params={"limit": 2, "cursor": cursor_of("m7")}, headers=member)).json()
    [call] = services["campaigns"].requests[-1:]
    # campaigns lists what follows the cursor's message, one more than the page: is there a next page?
    assert dict(call.url.params) == {"limit": "3", "before_id": "m7"}
    assert messages == {"items": [{"id": "m0"}, {"id": "m1"}], "next_cursor": cursor_of("m1")}
    ledger = (await client.get("/app/v1/points/ledger", params={"limit": 1, "cursor": cursor_of("9")}, headers=member)).json()
    assert ledger["next_cursor"] == cursor_of("7") and ledger["items"][0]["reason"] == "purchase"
    assert services["points"].requests[-1].url.params["before_id"] == "9"


async def test_an_item_added_while_the_member_scrolls_neither_shows_twice_nor_hides_another(app_api) -> None:
    client, services, member, _ = app_api
    wallet = [{"coupon_id": f"cp{i}", "code": f"C{i}"} for i in range(5)]
    services["campaigns"].answers[f"/v1/members/{ME}/coupons"] = lambda _: (200, wallet)
    first = (await client.get("/app/v1/coupons?limit=2", headers=member)).json()
    wallet.insert(0, {"coupon_id": "cp-new", "code": "NEW"})  # issued at the till meanwhile: newest first
    second = (await client.get("/app/v1/coupons", params={"limit": 2, "cursor": first["next_cursor"]}, headers=member)).json()
    assert [c["code"] for c in first["items"] + second["items"]] == ["C0", "C1", "C2", "C3"]


async def test_a_purchase_cursor_names_the_sale_members_pages_after(app_api) -> None:
    client, services, member, _ = app_api

    @asynccontextmanager
    async def no_database(**_: object) -> AsyncIterator[SimpleNamespace]:
        yield SimpleNamespace(session=StoreTable({}))

    client._transport.app.state.commands = no_database  # type: ignore[attr-defined]
    sale = {"store_id": "S001", "pos_txn_id": "T/9 ä", "occurred_at": "2026-11-30T02:15:00Z", "total": "10.00",
            "discount": "0.00", "payment": "cash", "lines": [], "returns": []}
    services["members"].answers[f"/v1/members/{ME}/purchases"] = (200, [sale, {**sale, "pos_txn_id": "T8"}])
    r = await client.get("/app/v1/purchases", params={"limit": 1, "cursor": cursor_of("S001", "T10")}, headers=member)
    assert r.status_code == 200, r.text
    call = services["members"].requests[-1]
    assert dict(call.url.params) == {"limit": "2", "before_store_id": "S001", "before_pos_txn_id": "T10"}
    assert r.json()["next_cursor"] == cursor_of("S001", "T/9 ä")
    # A cursor of another list (one id, not a sale's two) is refused before members is asked.
    wrong = await client.get("/app/v1/purchases", params={"cursor": cursor_of("m1")}, headers=member)
    assert wrong.status_code == 422 and len(services["members"].requests) == 1


async def test_a_cursor_whose_item_the_service_no_longer_lists_is_422_naming_the_cursor(app_api) -> None:
    client, services, member, _ = app_api
    services["campaigns"].answers[f"/v1/members/{ME}/messages"] = (
        422, {"detail": [{"loc": ["query", "before_id"], "msg": "no message m9 of member-0001", "type": "value_error"}]})
    r = await client.get("/app/v1/messages", params={"cursor": cursor_of("m9")}, headers={**member, "Accept-Language": "en"})
    assert r.status_code == 422, r.text
    assert [e["loc"] for e in r.json()["detail"]] == [["query", "cursor"]] and "before_id" not in r.text
    gone = await client.get("/app/v1/coupons", params={"cursor": cursor_of("cp-gone")}, headers=member)
    assert gone.status_code == 422 and [e["loc"] for e in gone.json()["detail"]] == [["query", "cursor"]]


async def test_a_bad_cursor_is_422_naming_it_in_both_languages(app_api) -> None:
    client, _, member, _ = app_api
    r = await client.get("/app/v1/coupons?cursor=abc", headers={**member, "Accept-Language": "en"})
    assert r.status_code == 422
    body = r.json()
    assert [e["loc"] for e in body["detail"]] == [["query", "cursor"]]
    assert "page position" in body["message_en"] and "翻页位置" in body["message_zh"] and body["message"] == body["message_en"]
    assert r.headers["content-language"] == "en"


async def test_a_services_refusal_is_relayed_with_its_detail_and_the_customers_messages(app_api) -> None:
    client, services, member, _ = app_api
    r = await client.post("/app/v1/gifts/reservations", json={"gift_id": "rice-cooker"},
                          headers={**member, "Idempotency-Key": "app-key-0001", "Accept-Language": "zh-CN"})
    assert r.status_code == 409
    body = r.json()
    assert body["detail"] == "balance 10 is below the price 10000" and body["error"] == "RedemptionRefused"
    assert body["message"] == body["message_zh"] == "积分不足，无法兑换。"
    [call] = services["points"].requests
    assert call.headers["idempotency-key"] == "app-key-0001"
    assert json.loads(call.content) == {"gift_id": "rice-cooker"}


async def test_a_reservation_needs_an_idempotency_key(app_api) -> None:
    client, services, member, _ = app_api
    r = await client.post("/app/v1/gifts/reservations", json={"gift_id": "rice-cooker"}, headers=member)
    assert r.status_code == 422 and "Idempotency-Key" in r.text
    assert services["points"].requests == []


async def test_consents_and_a_birthday_are_taken_only_as_json_writes_them(app_api) -> None:
    # "yes" recorded as a consent given, or 0 stored as 1970-01-01, would book what nobody said.
    client, services, member, _ = app_api
    for body in ({"purposes": {"marketing_sms": "yes"}}, {"purposes": {"marketing_sms": 1}}):
        r = await client.put("/app/v1/me/consents", json=body, headers=member)
        assert r.status_code == 422 and names(r, "purposes.marketing_sms"), r.text
    for birthday in (0, "0", "1990-05-17T00:00:00"):
        r = await client.patch("/app/v1/me", json={"birthday": birthday}, headers=member)
        assert r.status_code == 422 and names(r, "birthday"), r.text
    assert services["members"].requests == []


async def test_a_complaint_is_always_the_members_own_and_from_the_app(app_api) -> None:
    client, services, member, _ = app_api
    r = await client.post("/app/v1/complaints", json={"category": "product_quality", "severity": "low", "description": "x"},
                          headers=keyed(member))
    assert r.status_code == 201, r.text
    sent = json.loads(services["feedback"].requests[0].content)
    assert (sent["member_id"], sent["channel"]) == (ME, "app")
    smuggled = await client.post("/app/v1/complaints", headers=keyed(member),
                                 json={"category": "product_quality", "severity": "low", "description": "x", "member_id": "other"})
    assert smuggled.status_code == 422 and "member_id" in smuggled.json()["message_en"]


async def test_a_complaints_idempotency_key_reaches_feedback_so_a_retry_files_it_once(app_api) -> None:
    client, services, member, _ = app_api
    filing = {"category": "product_quality", "severity": "low", "description": "x"}
    for _ in range(2):
        r = await client.post("/app/v1/complaints", json=filing, headers={**member, "Idempotency-Key": "complaint-key-0001"})
        assert r.status_code == 201, r.text
    assert [call.headers.get("idempotency-key") for call in services["feedback"].requests] == ["complaint-key-0001"] * 2
    too_long = await client.post("/app/v1/complaints", json=filing, headers={**member, "Idempotency-Key": "k" * 101})
    assert too_long.status_code == 422 and "Idempotency-Key" in too_long.text
    assert len(services["feedback"].requests) == 2


async def test_a_complaint_without_an_idempotency_key_is_422_naming_the_header_and_never_reaches_feedback(app_api) -> None:
    """Without a key, the app's retry after a lost answer would file a second complaint."""
    client, services, member, _ = app_api
    r = await client.post("/app/v1/complaints", json={"category": "product_quality", "severity": "low", "description": "x"},
                          headers={**member, "Accept-Language": "en"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"], r.text
    assert r.json()["message_en"] == "Some details are not valid; please check: request reference."
    assert services["feedback"].requests == []


async def test_a_retried_complaint_is_answered_with_the_first_filing_feedback_returns(app_api) -> None:
    client, services, member, _ = app_api
    filed: dict[str, str] = {}

    def feedback(request: httpx.Request) -> tuple[int, dict[str, str]]:  # files once per key, as feedback does
        key = request.headers["idempotency-key"]
        first = key not in filed
        filed.setdefault(key, f"c-{len(filed) + 1}")
        return (201 if first else 200), {"id": filed[key], "status": "filed"}

    services["feedback"].answers["/v1/complaints"] = feedback
    headers = keyed(member, "complaint-key-0003")
    filing = {"category": "price", "severity": "low", "description": "y"}
    first, retry = [await client.post("/app/v1/complaints", json=filing, headers=headers) for _ in range(2)]
    assert (first.status_code, retry.status_code) == (201, 200)
    assert first.json()["id"] == retry.json()["id"] == "c-1" and filed == {"complaint-key-0003": "c-1"}


async def test_a_complaints_key_reused_for_another_complaint_is_feedbacks_409_relayed(app_api) -> None:
    client, services, member, _ = app_api
    refusal = "Idempotency-Key complaint-key-0002 was already used to file a different complaint; a new complaint needs a new key"
    services["feedback"].answers["/v1/complaints"] = (409, {"detail": refusal})
    r = await client.post("/app/v1/complaints", json={"category": "price", "severity": "low", "description": "y"},
                          headers={**member, "Idempotency-Key": "complaint-key-0002", "Accept-Language": "en"})
    assert r.status_code == 409
    assert r.json()["detail"] == refusal and r.json()["message"] == r.json()["message_en"]


async def test_scores_reach_feedback_as_the_app_sent_them_or_not_at_all(app_api) -> None:
    client, services, member, _ = app_api
    for path, body, field in (("/app/v1/complaints/c1/rating", {"score": True}, "score"),
                              ("/app/v1/complaints/c1/rating", {"score": "5"}, "score"),
                              ("/app/v1/surveys/t1", {"ratings": {"service": True}}, "ratings.service"),
                              ("/app/v1/surveys/t1", {"nps": "9"}, "nps")):
        r = await client.post(path, json=body, headers=member)
        assert r.status_code == 422 and names(r, field), (body, r.text)
    assert services["feedback"].requests == []


async def test_a_survey_answer_takes_the_whole_nps_scale(app_api) -> None:
    # 0 to 10, as feedback counts it (9 and 10 promoters): held to a rating's 1 to 5, no app answer
    # could be a promoter's and every store's NPS from the app read as detractors only.
    client, services, member, _ = app_api
    services["feedback"].answers["/v1/surveys/answers/t1"] = (201, {"id": "a1"})
    for nps in (0, 9, 10):
        r = await client.post("/app/v1/surveys/t1", json={"ratings": {"service": 5}, "nps": nps}, headers=member)
        assert r.status_code == 201, (nps, r.text)
    assert [json.loads(call.content)["nps"] for call in services["feedback"].requests] == [0, 9, 10]
    for nps in (11, -1, True):
        r = await client.post("/app/v1/surveys/t1", json={"nps": nps}, headers=member)
        assert r.status_code == 422 and names(r, "nps"), (nps, r.text)
    assert len(services["feedback"].requests) == 3


async def test_text_that_cannot_be_forwarded_is_422_naming_the_field(app_api) -> None:
    # A lone surrogate parses as JSON but cannot be written as UTF-8 into the forwarded body.
    client, services, member, _ = app_api
    bad = "\ud800"
    complaint = {"category": "product_quality", "severity": "low", "description": "x", "store_id": "S001"}
    # Feedback's stripped, non-blank text (shared.feedback_input) is no Unicode string to pydantic's
    # parser (`string_unicode`); other free text is refused by the shared `Text` naming the surrogate.
    for method, path, body, field, reason in (
        ("PATCH", "/app/v1/me", {"address": bad}, "address", "lone surrogate"),
        ("POST", "/app/v1/complaints", {**complaint, "description": bad}, "description", "string_unicode"),
        ("POST", "/app/v1/complaints/c1/reopen", {"reason": bad}, "reason", "string_unicode"),
        ("POST", "/app/v1/complaints/c1/rating", {"score": 3, "comment": bad}, "comment", "string_unicode"),
        ("POST", "/app/v1/surveys/t1", {"ratings": {"service": 5}, "comment": bad}, "comment", "string_unicode"),
    ):
        raw = json.dumps(body).encode()  # ASCII, the surrogate escaped as JSON allows
        r = await client.request(method, path, content=raw, headers={**member, "Content-Type": "application/json",
                                                                      "Idempotency-Key": "k-surrogate-1"})
        assert r.status_code == 422 and field in r.json()["message_en"] and reason in r.text, (path, r.text)
    assert services["feedback"].requests == [] and services["members"].requests == []


async def test_what_a_member_writes_to_feedback_is_held_to_feedbacks_choices_and_limits_at_the_gateway(app_api) -> None:
    """The app's document gives feedback's choices and limits (shared.feedback_input), and a value
    feedback would refuse is refused here, naming the field, before feedback is asked."""
    client, services, member, _ = app_api
    complaint = {"category": "product_quality", "severity": "low", "description": "牛奶过期了", "store_id": "S001"}
    for path, body, field in (
        ("/app/v1/complaints", {**complaint, "category": "noise"}, "category"),
        ("/app/v1/complaints", {**complaint, "severity": "urgent"}, "severity"),
        ("/app/v1/complaints", {**complaint, "description": "长" * 2001}, "description"),
        ("/app/v1/complaints", {**complaint, "description": "\u3000 "}, "description"),
        ("/app/v1/complaints/c1/reopen", {"reason": "x" * 201}, "reason"),
        ("/app/v1/complaints/c1/rating", {"score": 3, "comment": "x" * 501}, "comment"),
        ("/app/v1/surveys/t1", {"ratings": {"parking": 5}}, "ratings"),
        ("/app/v1/surveys/t1", {"ratings": {"service": 5}, "comment": "x" * 1001}, "comment"),
    ):
        r = await client.post(path, json=body, headers={**member, "Idempotency-Key": "k-limits-0001"})
        assert r.status_code == 422 and names(r, field), (path, body, r.text)
    assert services["feedback"].requests == []
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    filing = schemas["ComplaintFiling"]["properties"]
    assert "noise" not in filing["category"]["enum"] and "product_quality" in filing["category"]["enum"]
    assert filing["severity"]["enum"] == ["low", "medium", "high"] and filing["description"]["maxLength"] == 2000


def _complaint(n: int, due_in_hours: int = 0) -> dict[str, Any]:
    """A complaint as feedback lists it: filed `n` minutes after 09:00, most urgent first."""
    return {"id": f"c{n:03}", "filed_at": f"2026-12-01T{9 + n // 60:02}:{n % 60:02}:00+08:00", "due_in": due_in_hours}


async def test_every_complaints_cursor_handed_out_is_taken_back_up_to_the_newest_500(app_api) -> None:
    client, services, member, _ = app_api
    # A member with more complaints than the app lists: feedback answers as many as asked for.
    services["feedback"].answers["/v1/complaints"] = lambda request: (
        200, [_complaint(n) for n in range(600, 0, -1)][:int(request.url.params["limit"])])
    seen, cursor = [], None
    while True:
        r = await client.get("/app/v1/complaints", params={"limit": 30, **({"cursor": cursor} if cursor else {})}, headers=member)
        assert r.status_code == 200, (cursor, r.text)
        seen += [c["id"] for c in r.json()["items"]]
        if (cursor := r.json()["next_cursor"]) is None:
            break
    assert seen == [f"c{n:03}" for n in range(600, 100, -1)]


async def test_complaints_page_newest_first_however_staff_move_them_in_their_queue(app_api) -> None:
    client, services, member, _ = app_api
    # Feedback lists them for staff, the most urgent first: acknowledging one moves it to the end.
    queue = [_complaint(2, due_in_hours=1), _complaint(3, due_in_hours=2), _complaint(1, due_in_hours=3)]
    services["feedback"].answers["/v1/complaints"] = lambda _: (200, queue)
    first = (await client.get("/app/v1/complaints", params={"limit": 1}, headers=member)).json()
    queue.append(queue.pop(queue.index(next(c for c in queue if c["id"] == first["items"][0]["id"]))))
    rest = (await client.get("/app/v1/complaints", params={"cursor": first["next_cursor"]}, headers=member)).json()
    assert [c["id"] for c in first["items"] + rest["items"]] == ["c003", "c002", "c001"]
    # And the API document says so, not the staff's order.
    listed = (await client.get("/openapi.json")).json()["paths"]["/app/v1/complaints"]["get"]["summary"]
    assert "newest first" in listed and "overdue" not in listed


async def test_an_id_of_dots_names_nothing_rather_than_another_path_of_the_service(app_api) -> None:
    client, services, member, _ = app_api
    # Sent as "/v1/complaints/." the id would be resolved away: the member's list of complaints,
    # answered where one complaint was promised (a 500).
    services["feedback"].answers["/v1/complaints"] = (200, [{"id": "c1"}])
    for path in ("/app/v1/complaints/%2E", "/app/v1/surveys/%2E%2E"):
        r = await client.get(path, headers=member)
        assert r.status_code == 404, (path, r.text)
    assert services["feedback"].requests == []


async def test_staff_and_anonymous_callers_are_refused_in_both_languages(app_api) -> None:
    client, services, _, desk = app_api
    staff = await client.get("/app/v1/card", headers=desk)
    assert staff.status_code == 403 and staff.json()["message_zh"] and staff.json()["message_en"]
    anonymous = await client.get("/app/v1/card")
    assert anonymous.status_code == 401 and anonymous.json()["message"] == anonymous.json()["message_zh"]
    assert all(s.requests == [] for s in services.values())


async def test_a_service_that_cannot_be_reached_is_503(app_api) -> None:
    client, _, member, _ = app_api

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    client_app = client._transport.app  # type: ignore[attr-defined]
    client_app.state.downstream.campaigns = httpx.AsyncClient(transport=httpx.MockTransport(down), base_url="http://c")
    r = await client.get("/app/v1/offers", headers={**member, "Accept-Language": "en"})
    assert r.status_code == 503 and r.json()["detail"].startswith("campaigns service unavailable")
    assert r.json()["message"] == r.json()["message_en"]


def test_an_e_receipt_shows_what_was_paid_and_each_stores_name_returns_included() -> None:
    purchase = {"store_id": "S001", "pos_txn_id": "T1", "total": "120.00", "discount": "20.00", "lines": [],
                "returns": [{"store_id": "S002", "refund_id": "R1", "amount": "30.00", "refunded": "25.00", "lines": []}]}
    shown = receipt(purchase, {"S001": "城东大卖场", "S002": "城西店"})
    assert (shown["paid"], shown["store_name"]) == ("100.00", "城东大卖场")
    assert shown["returns"][0]["store_name"] == "城西店" and shown["returns"][0]["refunded"] == "25.00"
    assert receipt({**purchase, "store_id": "S404"}, {})["store_name"] is None


async def test_a_card_before_points_opened_the_account_shows_no_points_and_a_refusal_comes_through_as_itself(app_api) -> None:
    client, services, member, _ = app_api
    services["points"].answers.pop(f"/v1/members/{ME}/expiring")
    r = await client.get("/app/v1/card", headers=member)
    assert r.status_code == 200, r.text
    assert r.json()["points"] == {"balance": 0, "next_expiry": None, "expiring": [], "past_date": 0}
    services["members"].answers[f"/v1/members/{ME}"] = (401, {"detail": "this member's account was erased"})
    refused = await client.get("/app/v1/card", headers=member)
    assert refused.status_code == 401 and refused.json()["detail"] == "this member's account was erased"


async def test_before_points_opened_the_account_the_ledger_is_empty_and_the_catalogue_is_at_the_members_channel(app_api) -> None:
    client, services, member, _ = app_api
    services["members"].answers[f"/v1/members/{ME}"] = (200, {**PROFILE, "channel": "partner", "home_store_id": "S001"})
    services["points"].answers.pop(f"/v1/accounts/{ME}/ledger")
    newcomers = {"member_id": ME, "channel": "partner", "home_store_id": "S001", "gifts": [
        {"gift_id": "cushion", "name_zh": "靠垫", "name_en": "Cushion", "kind": "gift", "points": 8000,
         "stock_at_home_store": 2, "active_from": None, "active_until": None}]}
    # Points has no account yet: it answers 404, and the catalogue of a newcomer it is told of.
    services["points"].answers[f"/v1/members/{ME}/gifts"] = lambda request: (
        (200, newcomers) if request.url.params.get("channel") else (404, {"detail": f"no points account for member {ME}"}))

    ledger = await client.get("/app/v1/points/ledger", headers=member)
    assert ledger.status_code == 200, ledger.text
    assert ledger.json() == {"items": [], "next_cursor": None}

    gifts = await client.get("/app/v1/gifts", headers=member)
    assert gifts.status_code == 200, gifts.text
    assert gifts.json() == newcomers
    asked = [dict(call.url.params) for call in services["points"].requests if call.url.path.endswith("/gifts")]
    assert asked == [{}, {"channel": "partner", "home_store_id": "S001"}]  # as members has them
    assert all(call.headers["authorization"] == member["Authorization"] for call in services["points"].requests)


async def test_once_points_has_the_account_its_catalogue_is_answered_and_other_refusals_come_through(app_api) -> None:
    client, services, member, _ = app_api
    mine = {"member_id": ME, "channel": "retail", "home_store_id": "S001", "gifts": [
        {"gift_id": "cushion", "name_zh": "靠垫", "name_en": "Cushion", "kind": "gift", "points": 10000,
         "stock_at_home_store": 3, "active_from": None, "active_until": None}]}
    services["points"].answers[f"/v1/members/{ME}/gifts"] = (200, mine)
    r = await client.get("/app/v1/gifts", headers=member)
    assert r.status_code == 200 and r.json() == mine
    assert [call.url.path for call in services["points"].requests] == [f"/v1/members/{ME}/gifts"]
    services["points"].answers[f"/v1/members/{ME}/gifts"] = (403, {"detail": "not yours"})
    services["points"].answers[f"/v1/accounts/{ME}/ledger"] = (403, {"detail": "not yours"})
    for path in ("/app/v1/gifts", "/app/v1/points/ledger"):
        refused = await client.get(path, headers=member)
        assert refused.status_code == 403 and refused.json()["detail"] == "not yours"


@pytest.mark.parametrize("path", ["/app/v1/purchases", "/app/v1/messages", "/app/v1/gifts/reservations", "/app/v1/coupons",
                                  "/app/v1/complaints"])
@pytest.mark.parametrize("cursor", ["20", "x" * 401, cursor_of("a", "b", "c"), cursor_of(""), "WzEyXQ"])
async def test_a_cursor_the_gateway_never_handed_out_is_422_naming_the_cursor(app_api, path: str, cursor: str) -> None:
    client, services, member, _ = app_api

    @asynccontextmanager
    async def no_database(**_: object) -> AsyncIterator[SimpleNamespace]:
        yield SimpleNamespace(session=None)  # purchases opens a unit of work (store names) before its cursor is judged

    client._transport.app.state.commands = no_database  # type: ignore[attr-defined]
    r = await client.get(path, params={"cursor": cursor}, headers={**member, "Accept-Language": "en"})
    assert r.status_code == 422, r.text
    body = r.json()
    assert [e["loc"] for e in body["detail"]] == [["query", "cursor"]]
    assert "page position" in body["message_en"]
    assert all(s.requests == [] for s in services.values())


@pytest.mark.parametrize("cursor", ["9", cursor_of("0"), cursor_of("-3"), cursor_of("9.0"), cursor_of("９"),
                                    cursor_of(str(2**63)), cursor_of("S001", "T1")])
async def test_a_ledger_cursor_wraps_an_entry_id_and_nothing_else(app_api, cursor: str) -> None:
    client, services, member, _ = app_api
    r = await client.get("/app/v1/points/ledger", params={"cursor": cursor}, headers=member)
    assert r.status_code == 422 and [e["loc"] for e in r.json()["detail"]] == [["query", "cursor"]]
    assert services["points"].requests == []


async def test_a_ledger_entry_points_does_not_know_as_the_members_is_422_naming_the_cursor(app_api) -> None:
    client, services, member, _ = app_api
    services["points"].answers[f"/v1/accounts/{ME}/ledger"] = (
        422, {"detail": "before_id: no ledger entry 2544 of member member-0001: name the last entry of the page before"})
    r = await client.get("/app/v1/points/ledger", params={"cursor": cursor_of("2544")}, headers={**member, "Accept-Language": "en"})
    assert r.status_code == 422 and [e["loc"] for e in r.json()["detail"]] == [["query", "cursor"]] and "before_id" not in r.text
    assert services["points"].requests[-1].url.params["before_id"] == "2544"


async def test_answers_without_an_etag_are_not_to_be_stored(app_api) -> None:
    client, services, member, _ = app_api
    services["members"].answers[f"/v1/members/{ME}/export"] = (200, {"member": PROFILE, "purchases": []})
    export = await client.post("/app/v1/me/export", headers=member)
    assert export.status_code == 200, export.text
    assert export.headers["cache-control"] == "no-store" and "etag" not in export.headers
    # Saved by a browser under the name members' own export gives it.
    assert export.headers["content-disposition"] == f'attachment; filename="member-{ME}.json"'
    refused = await client.get("/app/v1/coupons?cursor=abc", headers=member)
    assert refused.status_code == 422 and refused.headers["cache-control"] == "no-store"
    card = await client.get("/app/v1/card", headers=member)
    assert card.headers["cache-control"] == "private, no-cache" and card.headers["etag"]


async def test_a_complaint_names_only_a_sale_of_the_members_own(app_api) -> None:
    client, services, member, _ = app_api
    purchases: list[dict[str, Any]] = []
    services["members"].answers[f"/v1/members/{ME}/purchases"] = lambda request: (200, purchases)
    about = {"category": "service_attitude", "severity": "low", "description": "收银员态度差", "sale": {"store_id": "S001", "pos_txn_id": "T-9"}}

    async def open_store(commands: object, store_id: str, **_: object) -> None:  # every store asked about is open
        assert store_id == "S001"

    client._transport.app.state.commands = None  # type: ignore[attr-defined]  # the stores are the stub's
    client._transport.app.state.open_stores = SimpleNamespace(ensure=open_store)  # type: ignore[attr-defined]
    refused = await client.post("/app/v1/complaints", headers=keyed(member), json=about)
    # Located as validation locates a nested field: the app marks the sale's receipt number.
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "sale", "pos_txn_id"], refused.text
    asked = services["members"].requests[-1].url.params
    assert (asked["store_id"], asked["pos_txn_id"]) == ("S001", "T-9")
    assert services["feedback"].requests == []
    no_store = await client.post("/app/v1/complaints", headers=keyed(member), json={**about, "sale": {"pos_txn_id": "T-9"}})
    assert no_store.status_code == 422 and no_store.json()["detail"][0]["loc"] == ["body", "sale", "store_id"]
    purchases.append({"store_id": "S001", "pos_txn_id": "T-9"})
    filed = await client.post("/app/v1/complaints", headers=keyed(member), json=about)
    assert filed.status_code == 201, filed.text
    sent = json.loads(services["feedback"].requests[-1].content)
    assert (sent["member_id"], sent["sale"]) == (ME, {"store_id": "S001", "pos_txn_id": "T-9"})


async def test_the_export_reads_every_page_of_points_and_campaigns(app_api) -> None:
    client, services, member, _ = app_api
    services["members"].answers[f"/v1/members/{ME}/export"] = (200, {"profile": PROFILE, "purchases": []})
    services["points"].answers[f"/v1/accounts/{ME}"] = (200, {"member_id": ME, "balance": 450, "entries": []})

    def ledger(request: httpx.Request) -> tuple[int, Any]:
        # Two pages: 200 entries, then the last 50 below the first page's oldest.
        before = int(request.url.params.get("before_id", 251))
        ids = list(range(before - 1, max(before - 201, 0), -1))
        entries = [{"id": i, "points": 1} for i in ids]
        return 200, {"member_id": ME, "entries": entries, "next_before_id": ids[-1] if len(ids) == 200 else None}

    def by_offset(total: int) -> Any:
        def answer(request: httpx.Request) -> tuple[int, Any]:
            offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
            return 200, [{"id": i} for i in range(offset, min(offset + limit, total))]
        return answer

    services["points"].answers[f"/v1/accounts/{ME}/ledger"] = ledger
    services["points"].answers[f"/v1/members/{ME}/redemptions"] = by_offset(3)
    services["campaigns"].answers[f"/v1/members/{ME}/messages"] = by_offset(400)
    r = await client.post("/app/v1/me/export", headers=member)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["profile"] == PROFILE and data["purchases"] == []
    assert data["points"]["balance"] == 450
    assert [e["id"] for e in data["points"]["ledger"]] == list(range(250, 0, -1))
    assert [x["id"] for x in data["points"]["reservations"]] == [0, 1, 2]
    assert [m["id"] for m in data["messages"]] == list(range(400))  # exactly two full pages, then an empty one
    assert [c["code"] for c in data["coupons"]] == [f"C{i}" for i in range(5)]


async def test_the_export_of_a_member_points_and_campaigns_do_not_know_yet_says_nothing_there(app_api) -> None:
    client, services, member, _ = app_api
    services["members"].answers[f"/v1/members/{ME}/export"] = (200, {"profile": PROFILE})
    for path in (f"/v1/members/{ME}/coupons", f"/v1/members/{ME}/messages"):  # campaigns answers 404 until it has the member
        del services["campaigns"].answers[path]
    r = await client.post("/app/v1/me/export", headers=member)
    assert r.status_code == 200, r.text
    assert r.json()["points"] == {"balance": 0, "ledger": [], "reservations": []}
    assert (r.json()["coupons"], r.json()["messages"]) == ([], [])
    assert not [q for q in services["points"].requests if q.url.path.endswith(("/ledger", "/redemptions"))]


async def test_the_export_carries_feedback_every_message_the_offer_list_and_the_entitlements(app_api) -> None:
    """Audit 7, M4: the export held no complaint text, nothing from feedback, only the app's inbox
    of the member's messages, and neither their personal offer list nor their entitlements."""
    client, services, member, _ = app_api
    document = {"profile": PROFILE, "complaints": [{"id": "c1", "category": "price"}]}
    services["members"].answers[f"/v1/members/{ME}/export"] = (200, document)
    from_feedback = {
        "member_id": ME, "exported_at": "2026-12-01T00:00:00Z",
        "complaints": [{"id": "c1", "description": "鸡蛋是坏的", "resolution_note": "已退款", "rating_comment": "慢",
                        "history": [{"action": "reopen", "detail": "还是不满意"}]}],
        "surveys": [{"id": "i1", "answer": {"nps": 6, "comment": "一般"}}],
        "comment_book": [{"id": "e1", "text": "顾客表扬", "complaint_id": "c1"}],
    }
    services["feedback"].answers[f"/v1/members/{ME}/export"] = (200, from_feedback)
    offers = {"member_id": ME, "round_id": "r1", "personal": True, "offers": [{"rank": 1, "sku": "A1"}]}
    services["campaigns"].answers[f"/v1/members/{ME}/offers"] = (200, offers)
    services["points"].answers[f"/v1/entitlements/{ME}"] = (200, [{"kind": "leftover_visit", "left": 2}])
    r = await client.post("/app/v1/me/export", headers=member)
    assert r.status_code == 200, r.text
    data = r.json()
    # members' keys stay as they were, the complaint summary among them.
    assert data["profile"] == PROFILE and data["complaints"] == document["complaints"]
    assert data["feedback"] == {k: from_feedback[k] for k in ("complaints", "surveys", "comment_book")}
    assert (data["offers"], data["entitlements"]) == (offers, [{"kind": "leftover_visit", "left": 2}])
    # Every message, on every channel: asked for with `all`, and only the export asks for it.
    asked = [q for q in services["campaigns"].requests if q.url.path.endswith("/messages")]
    assert asked and all(q.url.params["all"] == "true" for q in asked)
    [to_feedback] = [q for q in services["feedback"].requests if q.url.path == f"/v1/members/{ME}/export"]
    assert to_feedback.headers["authorization"] == member["Authorization"]
    await client.get("/app/v1/messages", headers=member)
    assert "all" not in services["campaigns"].requests[-1].url.params


async def test_the_export_of_a_member_feedback_and_campaigns_do_not_know_yet_has_empty_sections(app_api) -> None:
    client, services, member, _ = app_api
    services["members"].answers[f"/v1/members/{ME}/export"] = (200, {"profile": PROFILE})
    r = await client.post("/app/v1/me/export", headers=member)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["feedback"] == {"complaints": [], "surveys": [], "comment_book": []}
    assert (data["offers"], data["entitlements"]) == (None, [])


async def test_a_refused_export_reads_nothing_else(app_api) -> None:
    client, services, member, _ = app_api
    services["members"].answers[f"/v1/members/{ME}/export"] = (404, {"detail": f"no member {ME}"})
    r = await client.post("/app/v1/me/export", headers=member)
    assert r.status_code == 404
    assert services["points"].requests == [] and services["campaigns"].requests == []
    assert services["feedback"].requests == []


async def test_a_services_422_as_a_string_names_its_fields_in_the_message(app_api) -> None:
    client, services, member, _ = app_api
    services["feedback"].answers["/v1/surveys/answers/tok123"] = (
        422, {"detail": "ratings.product_quality: required by this survey; nps: required by this survey"})
    r = await client.post("/app/v1/surveys/tok123", json={"ratings": {}}, headers={**member, "Accept-Language": "en"})
    assert r.status_code == 422
    assert r.json()["message_en"] == "Some details are not valid; please check: product quality rating, likelihood to recommend."
    assert r.json()["message_zh"] == "填写的信息有误，请检查：商品质量评分、推荐意愿评分。"
    assert r.json()["detail"] == [
        {"loc": ["body", "ratings", "product_quality"], "msg": "required by this survey", "type": "value_error", "input": None},
        {"loc": ["body", "nps"], "msg": "required by this survey", "type": "value_error", "input": None}]


async def test_a_rule_only_members_checks_is_answered_in_the_shape_of_the_gateways_own_validation(app_api) -> None:
    """The app marks a form's fields from one shape: a birthday the gateway refuses (not a date) and
    one only members can refuse (in the future, by the chain's clock) name the same field alike."""
    client, services, member, _ = app_api
    own = await client.patch("/app/v1/me", json={"birthday": "17/05/1990"}, headers=member)
    services["members"].answers[f"/v1/members/{ME}"] = (422, {"detail": "birthday: birthday is in the future"})
    relayed = await client.patch("/app/v1/me", json={"birthday": "2999-01-01"}, headers=member)
    assert own.status_code == relayed.status_code == 422
    for answer in (own, relayed):
        [error] = answer.json()["detail"]
        assert error["loc"] == ["body", "birthday"] and error["msg"] and error["type"], answer.text
        assert {"message", "message_zh", "message_en"} <= answer.json().keys()
        assert answer.json()["message_zh"] == "填写的信息有误，请检查：生日。"
    assert relayed.json()["detail"][0]["msg"] == "birthday is in the future"
    assert [json.loads(call.content) for call in services["members"].requests] == [{"birthday": "2999-01-01"}]


async def test_a_refusals_messages_name_the_fields_in_words_and_its_detail_keeps_their_codes(app_api) -> None:
    """The customer reads 生日 / birthday and 门店 / store, never `store_id`; the app still marks its
    form from the codes in `detail`."""
    client, services, member, _ = app_api
    services["members"].answers[f"/v1/members/{ME}"] = (422, {"detail": "birthday: birthday is in the future"})
    birthday = await client.patch("/app/v1/me", json={"birthday": "2099-01-01"}, headers=member)
    services["feedback"].answers["/v1/complaints"] = (422, {"detail": "store_id: required (the caller has no store)"})
    store = await client.post("/app/v1/complaints", headers={**keyed(member), "Accept-Language": "en"},
                              json={"category": "price", "severity": "low", "description": "x"})
    own = await client.post("/app/v1/complaints", headers=keyed(member),
                            json={"category": "price", "severity": "low", "description": "x", "sale": {"store_id": "S001"}})
    assert birthday.status_code == store.status_code == own.status_code == 422
    assert (birthday.json()["message_zh"], birthday.json()["message_en"]) == (
        "填写的信息有误，请检查：生日。", "Some details are not valid; please check: birthday.")
    assert [e["loc"] for e in birthday.json()["detail"]] == [["body", "birthday"]]
    assert (store.json()["message_zh"], store.json()["message_en"]) == (
        "填写的信息有误，请检查：门店。", "Some details are not valid; please check: store.")
    assert store.json()["message"] == store.json()["message_en"]
    assert [e["loc"] for e in store.json()["detail"]] == [["body", "store_id"]]
    # The gateway's own validation of a nested field: in words too, the location as pydantic gives it.
    assert own.json()["message_zh"] == "填写的信息有误，请检查：小票号。"
    assert [e["loc"] for e in own.json()["detail"]] == [["body", "sale", "pos_txn_id"]]
    for answer in (birthday, store, own):
        assert "_" not in answer.json()["message_zh"] + answer.json()["message_en"]


async def test_a_services_422_in_the_list_shape_and_one_naming_no_field_are_both_lists(app_api) -> None:
    client, services, member, _ = app_api
    listed = [{"loc": ["body", "email"], "msg": "value is not a valid email address", "type": "value_error"}]
    services["members"].answers[f"/v1/members/{ME}"] = (422, {"detail": listed})
    r = await client.patch("/app/v1/me", json={"email": "not-an-address"}, headers=member)
    assert r.status_code == 422 and r.json()["detail"] == listed and r.json()["message_zh"] == "填写的信息有误，请检查：电子邮箱。"
    services["feedback"].answers["/v1/surveys/answers/t1"] = (422, {"detail": "the survey no longer takes answers"})
    r = await client.post("/app/v1/surveys/t1", json={"ratings": {"service": 5}}, headers=member)
    assert r.status_code == 422
    assert r.json()["detail"] == [{"loc": ["body"], "msg": "the survey no longer takes answers", "type": "value_error", "input": None}]


async def test_the_gateways_own_refusal_of_a_cursor_is_located_in_the_query_as_validation_locates_it(app_api) -> None:
    client, services, member, _ = app_api
    services["feedback"].answers["/v1/complaints"] = (200, [])
    gone = await client.get("/app/v1/complaints", params={"cursor": cursor_of("c1")}, headers=member)
    too_long = await client.get("/app/v1/complaints", params={"cursor": "x" * 401}, headers=member)
    assert gone.status_code == too_long.status_code == 422
    assert [e["loc"] for e in gone.json()["detail"]] == [e["loc"] for e in too_long.json()["detail"]] == [["query", "cursor"]]
    assert gone.json()["detail"][0]["msg"] == "names an item no longer in this list: start again from its first page"


async def test_the_profile_document_offers_null_only_where_members_clears_the_field(app_api) -> None:
    client, _, _, _ = app_api
    document = (await client.get("/openapi.json")).json()
    edit = document["components"]["schemas"]["ProfileEdit"]["properties"]
    for clearable in ("email", "birthday"):
        assert {"type": "null"} in edit[clearable]["anyOf"] and "null clears it" in edit[clearable]["description"]
    for kept in ("address", "community"):
        assert edit[kept]["type"] == "string" and "anyOf" not in edit[kept] and "cannot be cleared" in edit[kept]["description"]
    # Left out means unchanged: no field shows a default the app might take for "set to null".
    assert not any("default" in field for field in edit.values())


async def test_null_clears_the_email_and_birthday_and_is_refused_for_the_address_and_community(app_api) -> None:
    client, services, member, _ = app_api
    services["members"].answers[f"/v1/members/{ME}"] = lambda request: (200, {**PROFILE, **json.loads(request.content)})
    cleared = await client.patch("/app/v1/me", json={"email": None, "birthday": None}, headers=member)
    assert cleared.status_code == 200, cleared.text
    moved = await client.patch("/app/v1/me", json={"address": "幸福小区 3-2-502"}, headers=member)
    assert moved.status_code == 200, moved.text
    # Only the fields sent reach members: what is left out stays as it is.
    assert [json.loads(call.content) for call in services["members"].requests] == [
        {"email": None, "birthday": None}, {"address": "幸福小区 3-2-502"}]
    for field, words in (("address", "address"), ("community", "residential community")):
        r = await client.patch("/app/v1/me", json={field: None, "email": None}, headers={**member, "Accept-Language": "en"})
        assert r.status_code == 422, r.text
        [error] = r.json()["detail"]
        assert (error["loc"], error["type"]) == (["body", field], "not_clearable")
        assert error["msg"] == "cannot be cleared: leave the field out to keep it unchanged"
        assert r.json()["message_en"] == f"Some details are not valid; please check: {words}."
    assert len(services["members"].requests) == 2


async def test_a_malformed_token_is_a_plain_invalid_token(app_api) -> None:
    client, services, _, _ = app_api
    r = await client.get("/app/v1/card", headers={"Authorization": "Bearer abc.def.ghi"})
    assert r.status_code == 401 and r.json()["detail"] == "invalid token" and r.json()["message_zh"]
    assert all(s.requests == [] for s in services.values())


async def test_each_ledger_entry_is_described_in_the_members_language_with_store_and_gift_names(app_api) -> None:
    client, services, member, _ = app_api
    booked = {"source_event_id": None, "staff_id": None, "job_id": None, "booked_at": "2026-11-30T02:15:01Z"}
    services["points"].answers[f"/v1/accounts/{ME}/ledger"] = (200, {"member_id": ME, "next_before_id": None, "entries": [
        {**booked, "id": 9, "entry_type": "redeem", "points": -28000, "balance_after": 120, "reason": "gift rice-cooker at S001",
         "source_ref": "redemption:r1", "occurred_at": "2026-11-30T03:00:00Z"},
        {**booked, "id": 8, "entry_type": "earn", "points": 120, "balance_after": 28120, "reason": "purchase S001/T1001",
         "source_ref": "sale:S001/T1001", "occurred_at": "2026-11-30T02:15:00Z"}]})
    services["points"].answers[f"/v1/members/{ME}/gifts"] = (200, {"member_id": ME, "gifts": [
        {"gift_id": "rice-cooker", "name_zh": "电饭锅", "name_en": "Rice cooker"}]})
    zh = (await client.get("/app/v1/points/ledger", headers=member)).json()["items"]
    assert [(e["description"], e["description_zh"]) for e in zh] == [
        ("兑换礼品：电饭锅（城东大卖场）",) * 2, ("购物：城东大卖场，小票 T1001",) * 2]
    assert [e["reason"] for e in zh] == ["gift rice-cooker at S001", "purchase S001/T1001"]  # kept as points wrote it
    en = await client.get("/app/v1/points/ledger", headers={**member, "Accept-Language": "en"})
    assert [e["description"] for e in en.json()["items"]] == ["Gift redeemed: Rice cooker (城东大卖场)", "Purchase at 城东大卖场, receipt T1001"]
    assert en.headers["vary"] == "Authorization, Accept-Language"


async def test_the_ledger_is_answered_with_gifts_named_by_id_when_the_catalogue_cannot_be_read(app_api) -> None:
    client, services, member, _ = app_api
    services["points"].answers[f"/v1/accounts/{ME}/ledger"] = (200, {"member_id": ME, "next_before_id": None, "entries": [
        {"id": 3, "entry_type": "cancel_redeem", "points": 500, "balance_after": 500, "reason": "cancelled gift kettle: x",
         "source_ref": "redemption:r2", "occurred_at": "2026-11-30T03:00:00Z"}]})
    services["points"].answers[f"/v1/members/{ME}/gifts"] = (500, {"detail": "catalogue unavailable"})
    r = await client.get("/app/v1/points/ledger", headers=member)
    assert r.status_code == 200, r.text
    assert r.json()["items"][0]["description"] == "取消兑换，积分退回：kettle"
    tables = client._transport.app.state.commands  # type: ignore[attr-defined]
    assert tables.reads == 0  # a page naming no store reads no table


async def test_the_ledger_document_shows_descriptions(app_api) -> None:
    client, _, _, _ = app_api
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    assert {"description", "description_zh", "description_en", "reason"} <= schemas["LedgerEntry"]["properties"].keys()
    [example] = schemas["LedgerPage"]["examples"]
    assert all(item["description_zh"] and item["description_en"] for item in example["items"])



# Staff accounts and queues as the services record them: none of them may reach the customer.
STAFF_IDS = ("am-s001-chen", "dev-admin", "dev-desk", "member-app", "stf_9f2c", "store_manager:S001", "desk:S001",
             "system:escalation")
COMPLAINT = {
    "id": "c1", "member_id": ME, "store_id": "S001", "channel": "app", "category": "product_quality", "severity": "medium",
    "status": "in_progress", "assignee": "am-s001-chen", "handled_by": "stf_9f2c", "escalated_to": "store_manager:S001",
    "filed_at": "2026-12-01T09:00:00+08:00", "next_due_at": "2026-12-02T09:00:00+08:00", "overdue": True,
    "resolved_at": "2026-12-01T12:00:00+08:00", "compensation_points": 200, "coupon_value": None, "rating": None,
    "description": "买的牛奶过期了", "sale_store_id": None, "sale_pos_txn_id": None, "filed_by": "dev-desk",
    "ack_due_at": "2026-12-01T13:00:00+08:00", "resolve_due_at": "2026-12-03T09:00:00+08:00",
    "acknowledged_at": "2026-12-01T10:00:00+08:00", "closed_at": None, "reopen_count": 1, "resolution_note": "已退款并致歉",
    "compensated_at": None, "rating_comment": None, "rated_at": None, "member_erased": False, "survey_link": None,
    "survey": {"id": "inv-1", "source": "complaint", "store_id": "S001", "member_id": ME},
    "escalations": [{"step": "resolve", "round": 0, "due_at": "2026-12-01T11:00:00+08:00",
                     "escalated_at": "2026-12-01T11:05:00+08:00", "escalated_to": "store_manager:S001"}],
    "history": [
        {"action": "filed", "from_status": None, "to_status": "filed", "actor": ME, "detail": "channel app", "note": None,
         "at": "2026-12-01T09:00:00+08:00"},
        {"action": "assigned", "from_status": None, "to_status": None, "actor": "system", "detail": "to am-s001-chen",
         "note": None, "at": "2026-12-01T09:00:00+08:00"},
        {"action": "acknowledge", "from_status": "filed", "to_status": "acknowledged", "actor": "dev-admin", "detail": None,
         "note": None, "at": "2026-12-01T10:00:00+08:00"},
        {"action": "taken", "from_status": None, "to_status": None, "actor": "stf_9f2c", "detail": "from dev-admin",
         "note": None, "at": "2026-12-01T10:30:00+08:00"},
        {"action": "escalated", "from_status": None, "to_status": None, "actor": "system:escalation",
         "detail": "resolve overdue since 2026-12-01T11:00; to store_manager:S001", "note": None, "at": "2026-12-01T11:05:00+08:00"},
        {"action": "resolve", "from_status": "in_progress", "to_status": "resolved", "actor": "stf_9f2c", "detail": "round 0",
         "note": "已退款并致歉", "at": "2026-12-01T12:00:00+08:00"},
        {"action": "reopen", "from_status": "resolved", "to_status": "in_progress", "actor": ME, "detail": "退款还没到账",
         "note": None, "at": "2026-12-01T15:00:00+08:00"},
    ],
}
RESERVATION = {"redemption_id": "r1", "member_id": ME, "gift_id": "rice-cooker", "kind": "goods", "coupon_template_id": None,
               "store_id": "S001", "channel": "retail", "points": 28000, "status": "handed_over", "staff_id": "member-app",
               "redeemed_at": "2026-11-28T16:40:00+08:00", "handed_over_at": "2026-11-29T10:00:00+08:00",
               "handed_over_by": "dev-desk", "cancelled_at": None, "cancelled_by": None, "cancel_reason": None, "points_kept": 28000}
ENTITLEMENT = {"kind": "leftover_material", "granted": 3, "used": 1, "remaining": 2, "uses": [
    {"id": 4, "kind": "leftover_material", "used_on": "2026-11-20", "store_id": "S001", "staff_id": "dev-desk",
     "booked_at": "2026-11-20T10:00:00+08:00"}]}


async def test_no_staff_id_reaches_the_customer_in_any_answer_of_the_app(app_api) -> None:
    client, services, member, _ = app_api
    services["members"].answers[f"/v1/members/{ME}"] = (200, {**PROFILE, "manager_id": "am-s001-chen", "phone": "13800138000"})
    services["feedback"].answers.update({
        "/v1/complaints": lambda request: (200, [COMPLAINT]) if request.method == "GET" else (201, COMPLAINT),
        "/v1/complaints/c1": (200, COMPLAINT), "/v1/complaints/c1/rating": (200, COMPLAINT),
        "/v1/complaints/c1/reopen": (200, COMPLAINT),
    })
    services["points"].answers.update({
        f"/v1/members/{ME}/redemptions": lambda request: (200, [RESERVATION]) if request.method == "GET" else (201, RESERVATION),
        f"/v1/members/{ME}/redemptions/r1/cancel": (200, RESERVATION),
        f"/v1/entitlements/{ME}": (200, [ENTITLEMENT]),
    })
    answers = [
        await client.get("/app/v1/me", headers=member),
        await client.patch("/app/v1/me", json={"community": "幸福小区"}, headers=member),
        await client.post("/app/v1/complaints", json={"category": "price", "severity": "low", "description": "价签不符"},
                          headers=keyed(member)),
        await client.get("/app/v1/complaints", headers=member),
        await client.get("/app/v1/complaints/c1", headers=member),
        await client.post("/app/v1/complaints/c1/rating", json={"score": 4}, headers=member),
        await client.post("/app/v1/complaints/c1/reopen", json={"reason": "退款还没到账"}, headers=member),
        await client.post("/app/v1/gifts/reservations", json={"gift_id": "rice-cooker"}, headers=keyed(member)),
        await client.get("/app/v1/gifts/reservations", headers=member),
        await client.post("/app/v1/gifts/reservations/r1/cancel", headers=member),
        await client.get("/app/v1/entitlements", headers=member),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), (answer.request.url, answer.text)
        assert not [staff for staff in STAFF_IDS if staff in answer.text], (answer.request.url, answer.text)
    me, _, filed, listed, one = (a.json() for a in answers[:5])
    # What the customer needs is kept: their profile, the complaint's course and what the store said.
    assert (me["card_no"], me["phone"], "manager_id" in me) == (PROFILE["card_no"], "13800138000", False)
    assert listed["items"] == [one] and filed == one
    assert (one["status"], one["resolution_note"], one["resolve_due_at"], one["compensation_points"]) == (
        "in_progress", "已退款并致歉", "2026-12-03T09:00:00+08:00", 200)
    assert [(h["action"], h["by"]) for h in one["history"]] == [
        ("filed", "you"), ("acknowledge", "staff"), ("resolve", "staff"), ("reopen", "you")]
    assert one["history"][2]["note"] == "已退款并致歉" and one["history"][3]["reason"] == "退款还没到账"
    for key in ("assignee", "handled_by", "escalated_to", "escalations", "overdue", "filed_by", "member_id", "survey"):
        assert key not in one
    reserved, page, cancelled = answers[7].json(), answers[8].json(), answers[9].json()
    assert reserved == cancelled == page["items"][0]
    assert (reserved["gift_id"], reserved["status"], reserved["handed_over_at"]) == ("rice-cooker", "handed_over", "2026-11-29T10:00:00+08:00")
    assert answers[10].json() == [{"kind": "leftover_material", "granted": 3, "used": 1, "remaining": 2, "uses": [
        {"id": 4, "kind": "leftover_material", "used_on": "2026-11-20", "store_id": "S001", "booked_at": "2026-11-20T10:00:00+08:00"}]}]


async def test_each_reservation_names_its_gift_from_the_members_catalogue_read_once_per_answer(app_api) -> None:
    client, services, member, _ = app_api
    other = {**RESERVATION, "redemption_id": "r0", "gift_id": "retired-kettle", "status": "cancelled"}
    services["points"].answers.update({
        f"/v1/members/{ME}/redemptions": lambda request: (200, [RESERVATION, other]) if request.method == "GET" else (201, RESERVATION),
        f"/v1/members/{ME}/redemptions/r1/cancel": (200, {**RESERVATION, "status": "cancelled"}),
        f"/v1/members/{ME}/gifts": (200, {"member_id": ME, "gifts": [
            {"gift_id": "rice-cooker", "name_zh": "电饭锅", "name_en": "Rice cooker"},
            {"gift_id": "umbrella", "name_zh": "雨伞", "name_en": "Umbrella"}]}),
    })
    catalogue_reads = lambda: sum(r.url.path == f"/v1/members/{ME}/gifts" for r in services["points"].requests)  # noqa: E731
    page = await client.get("/app/v1/gifts/reservations", headers=member)
    assert page.status_code == 200, page.text
    # A gift no longer on offer has no names in the catalogue: null, its id kept.
    assert [(r["gift_id"], r["gift_name_zh"], r["gift_name_en"]) for r in page.json()["items"]] == [
        ("rice-cooker", "电饭锅", "Rice cooker"), ("retired-kettle", None, None)]
    assert catalogue_reads() == 1
    reserved = await client.post("/app/v1/gifts/reservations", json={"gift_id": "rice-cooker"}, headers=keyed(member))
    cancelled = await client.post("/app/v1/gifts/reservations/r1/cancel", headers=member)
    assert (reserved.status_code, cancelled.status_code) == (201, 200)
    for answer in (reserved, cancelled):
        assert (answer.json()["gift_name_zh"], answer.json()["gift_name_en"]) == ("电饭锅", "Rice cooker")
    assert catalogue_reads() == 3


async def test_reservations_are_answered_with_their_gifts_unnamed_when_the_catalogue_cannot_be_read(app_api) -> None:
    client, services, member, _ = app_api
    services["points"].answers.update({
        f"/v1/members/{ME}/redemptions": (200, [RESERVATION]),
        f"/v1/members/{ME}/redemptions/r1/cancel": (200, RESERVATION),
        f"/v1/members/{ME}/gifts": (500, {"detail": "catalogue unavailable"}),
    })
    page = await client.get("/app/v1/gifts/reservations", headers=member)
    cancelled = await client.post("/app/v1/gifts/reservations/r1/cancel", headers=member)
    assert (page.status_code, cancelled.status_code) == (200, 200), (page.text, cancelled.text)
    for shown in (page.json()["items"][0], cancelled.json()):
        assert (shown["gift_id"], shown["gift_name_zh"], shown["gift_name_en"]) == ("rice-cooker", None, None)


SURVEY_FORM = {"template": {"id": "tpl-1", "name": "购物满意度", "dimensions": ["product_quality", "service", "price",
                                                                          "store_environment", "after_sales"],
                            "ask_nps": True, "ask_comment": False, "is_default": True, "created_at": "2026-11-01T00:00:00Z"},
               "store_id": "S001", "expires_at": "2026-12-08T16:00:00Z"}


async def test_a_surveys_questions_are_each_labelled_in_chinese_and_english(app_api) -> None:
    client, services, member, _ = app_api
    services["feedback"].answers["/v1/surveys/answers/t1"] = (200, SURVEY_FORM)
    zh = await client.get("/app/v1/surveys/t1", headers=member)
    assert zh.status_code == 200, zh.text
    assert {k: zh.json()[k] for k in SURVEY_FORM} == SURVEY_FORM  # feedback's form kept as it is
    assert [(q["field"], q["label"], q["label_zh"], q["label_en"]) for q in zh.json()["questions"]] == [
        ("ratings.product_quality", "商品质量评分", "商品质量评分", "product quality rating"),
        ("ratings.service", "服务评分", "服务评分", "service rating"),
        ("ratings.price", "价格评分", "价格评分", "price rating"),
        ("ratings.store_environment", "门店环境评分", "门店环境评分", "store environment rating"),
        ("ratings.after_sales", "售后服务评分", "售后服务评分", "after-sales service rating"),
        ("nps", "推荐意愿评分", "推荐意愿评分", "likelihood to recommend")]  # no comment asked, none labelled
    # The words a refusal of the answer names each field by: one table for both.
    assert all((q["label_zh"], q["label_en"]) == field_label(q["field"]) for q in zh.json()["questions"])
    services["feedback"].answers["/v1/surveys/answers/t1"] = (200, {**SURVEY_FORM, "template": {
        **SURVEY_FORM["template"], "dimensions": ["service"], "ask_nps": False, "ask_comment": True}})
    en = await client.get("/app/v1/surveys/t1", headers={**member, "Accept-Language": "en"})
    assert [(q["field"], q["label"]) for q in en.json()["questions"]] == [("ratings.service", "service rating"), ("comment", "comment")]
