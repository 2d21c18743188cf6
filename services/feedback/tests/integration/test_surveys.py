"""Satisfaction surveys: invitations from sampled sales and resolved complaints, answers through
the link token by the invitation's member, and results per store and month."""

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlmodel import func, select

from feedback.adapters.tables import SurveyInvitationRow
from feedback.domain.surveys import sampled
from feedback.service_layer.events import invitation_notification_id
from shared.auth import Role
from shared.events import contracts as c
from shared.events.envelope import new_event
from shared.events.registry import FEEDBACK_NOTIFICATION_REQUESTED, PURCHASE_ATTRIBUTED

pytestmark = pytest.mark.integration

ALL_FIVE = {"product_quality": 5, "service": 4, "price": 3, "store_environment": 5, "after_sales": 2}


def _sale(member_id: str, sale_event_id: str, store: str = "S001"):
    data = c.PurchaseAttributedV1(
        member_id=member_id, sale_event_id=sale_event_id, store_id=store, pos_txn_id=f"T-{sale_event_id[:8]}",
        occurred_at=datetime(2026, 11, 23, 2, 0, tzinfo=UTC), total=Decimal("10.00"),
        lines=[c.AttributedLine(sku="1", qty=Decimal(1), amount=Decimal("10.00"))],
    )
    return new_event(PURCHASE_ATTRIBUTED, data, source="crm/members", subject=member_id)


def _ids(rate: float, picked: bool, n: int) -> list[str]:
    out = []
    while len(out) < n:
        candidate = str(uuid.uuid4())
        if sampled(candidate, rate) == picked:
            out.append(candidate)
    return out


async def _invitations(fb) -> int:
    async with fb.app.state.sessions() as s:
        return (await s.exec(select(func.count()).select_from(SurveyInvitationRow))).one()


async def _token_of(fb, member_id: str) -> str:
    [invitation] = (await fb.client.get("/v1/surveys/invitations", headers=fb.member(member_id))).json()
    return invitation["link"].rsplit("/", 1)[1]


async def test_sampled_sales_get_one_invitation_however_often_redelivered(fb) -> None:
    [picked] = _ids(0.05, True, 1)
    skipped = _ids(0.05, False, 5)
    event = _sale("m1", picked)
    await fb.apply(event, *(_sale("m1", s) for s in skipped))
    await fb.apply(event)  # same envelope again: deduped by event id
    await fb.apply(_sale("m1", picked))  # same sale under a new envelope id: deduped by the sale
    assert await _invitations(fb) == 1
    [invitation] = (await fb.client.get("/v1/surveys/invitations", headers=fb.member("m1"))).json()
    assert invitation["source"] == "sale" and invitation["store_id"] == "S001"
    # 14 days on, to the end of that day in the stores' zone (midnight in Shanghai, 16:00 UTC).
    assert invitation["expires_at"].startswith("2026-12-07T16:00")
    # On the public gateway address (the development default), never feedback's own port.
    assert invitation["link"].startswith("http://127.0.0.1:8000/surveys/")


async def test_an_imported_sale_of_years_ago_invites_nobody_even_when_sampled(fb) -> None:
    [picked] = _ids(0.05, True, 1)
    event = _sale("m9", picked)
    event.data["imported"] = True
    await fb.apply(event)
    assert await _invitations(fb) == 0


async def test_a_resolved_complaint_invites_the_customer_and_the_link_answers_once(fb) -> None:
    await fb.register("m2", "S001")
    complaint = await fb.file(member_id="m2")
    await fb.ok(complaint["id"], "acknowledge")
    resolved = await fb.ok(complaint["id"], "resolve", note="ok")
    assert resolved["survey_link"] is None and resolved["survey"]["answered_at"] is None  # staff: sent, no link
    own_view = (await fb.client.get(f"/v1/complaints/{complaint['id']}", headers=fb.member("m2"))).json()
    token = own_view["survey_link"].rsplit("/", 1)[1]
    assert token == await _token_of(fb, "m2")
    form = (await fb.client.get(f"/v1/surveys/answers/{token}", headers=fb.member("m2"))).json()
    assert form["template"]["dimensions"] == list(ALL_FIVE) and form["template"]["ask_nps"] is True
    r = await fb.client.post(f"/v1/surveys/answers/{token}", json={"ratings": ALL_FIVE, "nps": 9, "comment": "满意"},
                             headers=fb.member("m2"))
    assert r.status_code == 201, r.text
    again = await fb.client.post(f"/v1/surveys/answers/{token}", json={"ratings": ALL_FIVE, "nps": 9}, headers=fb.member("m2"))
    assert again.status_code == 409 and "already answered" in again.json()["detail"]
    assert again.json()["detail"].endswith("+08:00"), again.text  # the chain's time, as every moment a refusal names
    assert (await fb.client.get(f"/v1/surveys/answers/{token}", headers=fb.member("m2"))).status_code == 409
    await fb.ok(complaint["id"], "reopen", reason="x")
    await fb.ok(complaint["id"], "resolve", note="ok")
    assert await _invitations(fb) == 1


async def test_expired_and_unknown_links_are_refused_clearly(fb) -> None:
    await fb.register("m3", "S001")
    complaint = await fb.file(member_id="m3")
    await fb.ok(complaint["id"], "acknowledge")
    await fb.ok(complaint["id"], "resolve", note="ok")
    token = await _token_of(fb, "m3")
    # The SMS says the link works until 2026-12-07: all of that day, to 23:59 in Shanghai.
    fb.clock.advance(days=14, hours=13, minutes=59)
    assert (await fb.client.get(f"/v1/surveys/answers/{token}", headers=fb.member("m3"))).status_code == 200
    own = (await fb.client.get(f"/v1/complaints/{complaint['id']}", headers=fb.member("m3"))).json()
    assert own["survey_link"].endswith(token)
    fb.clock.advance(minutes=1)
    r = await fb.client.post(f"/v1/surveys/answers/{token}", json={"ratings": ALL_FIVE, "nps": 9}, headers=fb.member("m3"))
    assert r.status_code == 410 and r.json()["detail"] == "this survey link could be answered until the end of 2026-12-07"
    # Nor is the complaint's page offering a link that no longer answers.
    own = (await fb.client.get(f"/v1/complaints/{complaint['id']}", headers=fb.member("m3"))).json()
    assert own["survey_link"] is None and own["survey"] is not None
    r = await fb.client.post(f"/v1/surveys/answers/{token[:-2]}xx", json={"ratings": ALL_FIVE, "nps": 9}, headers=fb.member("m3"))
    assert r.status_code == 404


async def test_answers_must_match_the_template(fb) -> None:
    await fb.register("m4", "S001")
    complaint = await fb.file(member_id="m4")
    await fb.ok(complaint["id"], "acknowledge")
    await fb.ok(complaint["id"], "resolve", note="ok")
    token, me = await _token_of(fb, "m4"), fb.member("m4")
    r = await fb.client.post(f"/v1/surveys/answers/{token}", json={"ratings": {"service": 4}}, headers=me)
    assert r.status_code == 422
    assert "ratings.product_quality: required" in r.text and "nps: required" in r.text
    r = await fb.client.post(f"/v1/surveys/answers/{token}", json={"ratings": ALL_FIVE | {"service": 6}, "nps": 11}, headers=me)
    assert r.status_code == 422 and "service" in r.text and "nps" in r.text
    # Scores are JSON integers: `true` is no 1 and "9" no 9.
    r = await fb.client.post(f"/v1/surveys/answers/{token}", json={"ratings": ALL_FIVE | {"service": True}, "nps": "9"}, headers=me)
    assert r.status_code == 422 and "service" in r.text and "nps" in r.text
    assert (await fb.client.post(f"/v1/surveys/answers/{token}", json={"ratings": ALL_FIVE, "nps": 0}, headers=me)).status_code == 201


async def test_a_new_default_template_is_used_for_new_invitations(fb) -> None:
    body = {"name": "快速调查 Quick survey", "dimensions": ["service", "price"], "ask_nps": False, "is_default": True}
    assert (await fb.client.post("/v1/surveys/templates", json=body, headers=fb.desk())).status_code == 403
    r = await fb.client.post("/v1/surveys/templates", json=body, headers=fb.as_(Role.MARKETING))
    assert r.status_code == 201, r.text
    templates = (await fb.client.get("/v1/surveys/templates", headers=fb.desk())).json()
    assert [t["is_default"] for t in templates] == [False, True]
    [picked] = _ids(0.05, True, 1)
    await fb.apply(_sale("m5", picked))
    form = (await fb.client.get(f"/v1/surveys/answers/{await _token_of(fb, 'm5')}", headers=fb.member("m5"))).json()
    assert form["template"]["dimensions"] == ["service", "price"] and form["template"]["ask_nps"] is False
    r = await fb.client.post("/v1/surveys/templates", json=body | {"dimensions": ["parking"]}, headers=fb.admin())
    assert r.status_code == 422 and "dimensions" in r.text


async def _answer_one(fb, member_id: str, store: str, ratings: dict, nps: int | None) -> None:
    await fb.register(member_id, store)
    complaint = await fb.file(member_id=member_id, store_id=store, headers=fb.desk(store))
    await fb.ok(complaint["id"], "acknowledge", headers=fb.desk(store))
    await fb.ok(complaint["id"], "resolve", headers=fb.desk(store), note="ok")
    if ratings:
        token = await _token_of(fb, member_id)
        r = await fb.client.post(f"/v1/surveys/answers/{token}", json={"ratings": ratings, "nps": nps}, headers=fb.member(member_id))
        assert r.status_code == 201, r.text


async def test_results_per_store_and_month_with_csat_nps_response_rate_and_trend(fb) -> None:
    await _answer_one(fb, "a1", "S001", ALL_FIVE, 10)  # November: 1 of 2 answered
    await _answer_one(fb, "a2", "S001", {}, None)
    fb.clock.now = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)
    await _answer_one(fb, "a3", "S001", dict.fromkeys(ALL_FIVE, 2), 3)  # December: 2 of 2 answered
    await _answer_one(fb, "a4", "S001", dict.fromkeys(ALL_FIVE, 5), 9)
    await _answer_one(fb, "a5", "S002", dict.fromkeys(ALL_FIVE, 4), 8)
    r = await fb.client.get("/v1/surveys/results", params={"store_id": "S001"}, headers=fb.as_(Role.MARKETING))
    assert r.status_code == 200, r.text
    nov, dec = r.json()
    assert (nov["month"], nov["invitations"], nov["responses"], nov["response_rate"]) == ("2026-11", 2, 1, "50.0")
    assert nov["csat"] == {"product_quality": "100.0", "service": "100.0", "price": "0.0", "store_environment": "100.0",
                           "after_sales": "0.0"}
    assert (nov["csat_overall"], nov["nps"], nov["nps_change"]) == ("60.0", "100.0", None)
    assert (dec["response_rate"], dec["csat_overall"], dec["nps"]) == ("100.0", "50.0", "0.0")
    assert (dec["nps_change"], dec["csat_change"]) == ("-100.0", "-10.0")
    only_dec = (await fb.client.get("/v1/surveys/results", params={"from_month": "2026-12"}, headers=fb.admin())).json()
    assert [(x["store_id"], x["month"], x["nps_change"]) for x in only_dec] == [("S001", "2026-12", "-100.0"), ("S002", "2026-12", None)]
    own = (await fb.client.get("/v1/surveys/results", headers=fb.store_manager("S002"))).json()
    assert [x["store_id"] for x in own] == ["S002"]
    assert (await fb.client.get("/v1/surveys/results", params={"store_id": "S001"}, headers=fb.store_manager("S002"))).status_code == 403
    assert (await fb.client.get("/v1/surveys/results", params={"from_month": "2026-13"}, headers=fb.admin())).status_code == 422


async def test_results_export_as_csv_for_excel_and_as_a_printable_page(fb) -> None:
    await _answer_one(fb, "b1", "S001", ALL_FIVE, 10)
    csv = await fb.client.get("/v1/surveys/results", params={"format": "csv"}, headers=fb.admin())
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.startswith("\ufeff门店 Store,月份 Month")
    assert "S001,2026-11,1,1,100.0" in csv.text
    page = await fb.client.get("/v1/surveys/results", params={"format": "html"}, headers=fb.admin())
    assert page.headers["content-type"].startswith("text/html") and "@media print" in page.text and "净推荐值 NPS" in page.text


# --- the invitation reaches the customer: feedback asks the sender for the message


async def _requests(fb) -> list[dict]:
    return await fb.outbox(FEEDBACK_NOTIFICATION_REQUESTED)


async def test_a_members_invitation_is_asked_to_be_sent_once_with_its_public_link_and_the_store(fb) -> None:
    await fb.register("m6", "S001")
    complaint = await fb.file(member_id="m6")
    await fb.ok(complaint["id"], "acknowledge")
    await fb.ok(complaint["id"], "resolve", note="ok")
    await fb.ok(complaint["id"], "reopen", reason="x")
    await fb.ok(complaint["id"], "resolve", note="ok")  # the one invitation stands: nothing asked again
    [request] = await _requests(fb)
    [invitation] = (await fb.client.get("/v1/surveys/invitations", headers=fb.member("m6"))).json()
    data = request["data"]
    assert request["kafka_key"] == "m6" and request["subject"] == "m6"
    assert data["notification_id"] == request["id"] == invitation_notification_id(invitation["id"])
    assert (data["member_id"], data["invitation_id"], data["source"], data["store_id"]) == ("m6", invitation["id"], "complaint", "S001")
    assert (data["template"], data["channel"], data["requires_consent"]) == ("survey_invitation", "sms", "service_tips_sms")
    # The store by its id: the sender names it as the gateway, where stores are kept, last named it.
    assert data["params"] == {"link": invitation["link"], "store_id": "S001", "expires_on": "2026-12-07"}
    assert data["params"]["link"].startswith("http://127.0.0.1:8000/surveys/")
    # Ids and the link only: nothing the member or staff wrote, no contact details.
    assert "买到的牛奶" not in json.dumps(request, ensure_ascii=False) and "phone" not in json.dumps(data)


async def test_a_sampled_sale_asks_once_however_often_redelivered(fb) -> None:
    [picked] = _ids(0.05, True, 1)
    await fb.apply(_sale("m7", picked, store="S009"))
    await fb.apply(_sale("m7", picked, store="S009"))  # the same sale under a new envelope id
    [request] = await _requests(fb)
    assert request["data"]["source"] == "sale" and request["data"]["member_id"] == "m7"
    assert request["data"]["params"]["store_id"] == "S009"


async def test_a_complaint_whose_member_was_erased_before_its_resolution_invites_nobody(fb) -> None:
    await fb.register("m8", "S001")
    complaint = await fb.file(member_id="m8")
    await fb.ok(complaint["id"], "acknowledge")
    await fb.erase("m8")
    resolved = await fb.ok(complaint["id"], "resolve", note="ok")
    assert resolved["survey"] is None
    assert await _invitations(fb) == 0 and await _requests(fb) == []


async def test_an_anonymous_complaint_asks_for_no_message(fb) -> None:
    complaint = await fb.file()  # no member: no invitation, nobody to send one to
    await fb.ok(complaint["id"], "acknowledge")
    await fb.ok(complaint["id"], "resolve", note="ok")
    assert await _requests(fb) == []


async def test_a_period_of_results_that_ends_before_it_starts_is_422_naming_to_month(fb) -> None:
    """Finding: answered 200 with no months, where the information base answers 422."""
    backwards = {"from_month": "2026-12", "to_month": "2026-01"}
    r = await fb.client.get("/v1/surveys/results", params=backwards, headers=fb.admin())
    assert r.status_code == 422 and r.json()["detail"] == "to_month: must not be before from_month"
    one_month = await fb.client.get("/v1/surveys/results", params={"from_month": "2026-12", "to_month": "2026-12"}, headers=fb.admin())
    assert one_month.status_code == 200
