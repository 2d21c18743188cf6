"""POS entry through the gateway: idempotent retries, clear 4xx errors, returns within bounds."""

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from gateway.adapters.tables import PosRefundRow, PosSaleRow
from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role
from shared.events.binding import to_kafka
from shared.events.envelope import Envelope
from shared.outbox import OutboxRecord
from tests.support.factories import line, refund_body, sale_body
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with service(create_app(env.settings(Settings, await database_factory("gateway")))) as client:
        r = await client.put("/api/v1/stores/S001", json={"name": "城东大卖场", "city": "杭州"}, headers=env.auth(Role.ADMIN))
        assert r.status_code == 200, r.text
        yield client


def pos(env: TestEnv, store: str = "S001") -> dict[str, str]:
    return env.auth(Role.POS, store_id=store)


async def outbox_rows(client) -> list[OutboxRecord]:
    """The sales' and returns' events queued (saving a store queues one too)."""
    async with client.app.state.sessions() as session:
        return list((await session.exec(
            select(OutboxRecord).where(col(OutboxRecord.event_type).startswith("crm.pos.")).order_by(OutboxRecord.id))).all())


async def test_sale_is_accepted_and_queued_as_purchase_made(gateway, env: TestEnv) -> None:
    sale = sale_body(member={"card_no": "8800000012345"})
    r = await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))
    assert r.status_code == 202, r.text
    rows = await outbox_rows(gateway)
    assert [row.event_type for row in rows] == ["crm.pos.purchase_made.v1"]
    assert rows[0].event_id == r.json()["event_id"]
    assert rows[0].key == "card:8800000012345"
    envelope = Envelope.model_validate_json(rows[0].envelope)
    assert envelope.data["pos_txn_id"] == sale["pos_txn_id"] and envelope.data["total"] == "79.80"


async def test_phone_never_leaves_the_gateway_in_clear(gateway, env: TestEnv) -> None:
    r = await gateway.post("/pos/v1/purchases", json=sale_body(member={"phone": "13800138000"}), headers=pos(env))
    assert r.status_code == 202, r.text
    row = (await outbox_rows(gateway))[0]
    value, headers = to_kafka(Envelope.model_validate_json(row.envelope))
    assert b"13800138000" not in value and all(b"13800138000" not in v for _, v in headers)
    assert "13800138000" not in row.key
    assert len(json.loads(value)["customer"]["phone_hmac"]) == 64


async def test_retry_of_the_same_sale_is_acknowledged_once(gateway, env: TestEnv) -> None:
    sale = sale_body()
    first = await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))
    again = await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))
    assert first.status_code == again.status_code == 202
    assert again.json() == {"event_id": first.json()["event_id"], "duplicate": True}
    assert len(await outbox_rows(gateway)) == 1


async def test_concurrent_retries_publish_one_event(gateway, env: TestEnv) -> None:
    sale = sale_body()
    answers = await asyncio.gather(*(gateway.post("/pos/v1/purchases", json=sale, headers=pos(env)) for _ in range(8)))
    assert {a.status_code for a in answers} == {202}
    assert sum(not a.json()["duplicate"] for a in answers) == 1
    assert len({a.json()["event_id"] for a in answers}) == 1
    assert len(await outbox_rows(gateway)) == 1


async def test_same_transaction_id_with_different_content_is_a_conflict(gateway, env: TestEnv) -> None:
    sale = sale_body()
    assert (await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))).status_code == 202
    changed = {**sale, "payment": "cash"}
    r = await gateway.post("/pos/v1/purchases", json=changed, headers=pos(env))
    assert r.status_code == 409
    assert sale["pos_txn_id"] in r.json()["detail"]
    assert len(await outbox_rows(gateway)) == 1


async def test_amounts_equal_in_value_are_the_same_sale(gateway, env: TestEnv) -> None:
    sale = sale_body()
    assert (await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))).status_code == 202
    reprinted = {**sale, "total": "79.8", "lines": [{**sale["lines"][0], "amount": 79.8, "unit_price": "39.9"}]}
    r = await gateway.post("/pos/v1/purchases", json=reprinted, headers=pos(env))
    assert r.status_code == 202 and r.json()["duplicate"] is True


async def test_the_same_moment_in_another_utc_offset_is_the_same_sale_and_return(gateway, env: TestEnv) -> None:
    sale = sale_body(lines=[line(qty="2")])
    moment = datetime.fromisoformat(sale["occurred_at"])
    assert (await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))).status_code == 202
    elsewhere = moment.astimezone(timezone(timedelta(hours=8 if not moment.utcoffset() else 0)))
    assert elsewhere.isoformat() != sale["occurred_at"]
    r = await gateway.post("/pos/v1/purchases", json={**sale, "occurred_at": elsewhere.isoformat()}, headers=pos(env))
    assert r.status_code == 202 and r.json()["duplicate"] is True, r.text
    refund = refund_body(sale, lines=[line(qty="1")])
    assert (await gateway.post("/pos/v1/refunds", json=refund, headers=pos(env))).status_code == 202
    returned_at = datetime.fromisoformat(refund["occurred_at"]).astimezone(timezone(timedelta(hours=-5)))
    again = await gateway.post("/pos/v1/refunds", json={**refund, "occurred_at": returned_at.isoformat()}, headers=pos(env))
    assert again.status_code == 202 and again.json()["duplicate"] is True, again.text
    assert len(await outbox_rows(gateway)) == 2


async def test_quantities_equal_in_value_are_the_same_sale(gateway, env: TestEnv) -> None:
    sale = sale_body(lines=[line(qty="2"), line(sku="2000123000015", qty="0.512", unit_price="26.80")])
    first = await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))
    assert first.status_code == 202, first.text
    reprinted = {**sale, "lines": [{**sale["lines"][0], "qty": "2.000"}, {**sale["lines"][1], "qty": "0.5120"}]}
    r = await gateway.post("/pos/v1/purchases", json=reprinted, headers=pos(env))
    assert r.status_code == 202, r.text
    assert r.json() == {"event_id": first.json()["event_id"], "duplicate": True}
    assert len(await outbox_rows(gateway)) == 1


async def test_pos_may_only_post_for_its_own_store(gateway, env: TestEnv) -> None:
    r = await gateway.post("/pos/v1/purchases", json=sale_body("S001"), headers=pos(env, "S002"))
    assert r.status_code == 403
    assert "S002" in r.json()["detail"]


async def test_other_roles_and_missing_tokens_cannot_post_sales(gateway, env: TestEnv) -> None:
    assert (await gateway.post("/pos/v1/purchases", json=sale_body())).status_code == 401
    r = await gateway.post("/pos/v1/purchases", json=sale_body(), headers=env.auth(Role.MARKETING))
    assert r.status_code == 403
    r = await gateway.post("/pos/v1/purchases", json=sale_body(), headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401


def _bad(**changes):
    body = sale_body()
    for key, value in changes.items():
        if key == "line":
            body["lines"] = [{**body["lines"][0], **value}]
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(
    ("body", "loc", "says"),
    [
        (_bad(total="80.00"), ["body", "total"], "does not equal the sum of line amounts"),
        (_bad(line={"amount": "-79.80"}, total="-79.80"), ["body", "lines", 0, "amount"], "greater than or equal to 0"),
        (_bad(line={"amount": "79.805"}, total="79.805"), ["body", "lines", 0, "amount"], "decimal place"),
        (_bad(line={"qty": "0"}), ["body", "lines", 0, "qty"], "greater than 0"),
        (_bad(discounts=[{"amount": "-1"}]), ["body", "discounts", 0, "amount"], "greater than 0"),
        (_bad(line={"amount": 0.30000000000000004}, total=0.30000000000000004), ["body", "lines", 0, "amount"],
         "no more than 2 decimal places"),
        (_bad(occurred_at="2026-11-23T10:15:00"), ["body", "occurred_at"], "timezone"),
        (_bad(member={"phone": "12345"}), ["body", "member", "phone"], "pattern"),
        (_bad(lines=[]), ["body", "lines"], "at least 1"),
    ],
)
async def test_bad_sales_are_422_naming_the_field(gateway, env: TestEnv, body, loc, says) -> None:
    r = await gateway.post("/pos/v1/purchases", json=body, headers=pos(env))
    assert r.status_code == 422, r.text
    errors = r.json()["detail"]
    assert any(e["loc"][: len(loc)] == loc and says in e["msg"] for e in errors), errors
    assert await outbox_rows(gateway) == []


async def test_unknown_store_is_422_on_store_id(gateway, env: TestEnv) -> None:
    r = await gateway.post("/pos/v1/purchases", json=sale_body("S999"), headers=pos(env, "S999"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "store_id"]
    assert "unknown" in r.json()["detail"][0]["msg"]


async def test_retries_accepted_before_the_store_closed_are_answered_as_accepted(gateway, env: TestEnv) -> None:
    """The store closes while a till still retries a sale and a return whose answers it lost: both
    were accepted, and a 422 would tell the till they were refused (and invite a re-entry under a new
    id, counting them twice). New traffic of the closed store is still refused."""
    sale = sale_body(lines=[line(qty="3")])
    refund = refund_body(sale, lines=[line(qty="1")])
    sold = await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))
    returned = await gateway.post("/pos/v1/refunds", json=refund, headers=pos(env))
    assert sold.status_code == returned.status_code == 202, (sold.text, returned.text)
    r = await gateway.put("/api/v1/stores/S001", json={"name": "城东大卖场", "city": "杭州", "active": False},
                          headers=env.auth(Role.ADMIN))
    assert r.status_code == 200, r.text

    again = await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))
    assert (again.status_code, again.json()) == (202, {"event_id": sold.json()["event_id"], "duplicate": True})
    again = await gateway.post("/pos/v1/refunds", json=refund, headers=pos(env))
    assert (again.status_code, again.json()) == (202, {"event_id": returned.json()["event_id"], "duplicate": True})
    other = await gateway.post("/pos/v1/purchases", json={**sale, "payment": "cash"}, headers=pos(env))
    assert other.status_code == 409, other.text

    basket = {"store_id": "S001", "lines": sale["lines"]}
    codes = {"store_id": "S001", "pos_txn_id": "S001-T-new", "codes": ["C-1"], "lines": sale["lines"]}
    for path, body in (("/pos/v1/purchases", sale_body()), ("/pos/v1/refunds", {**refund, "refund_id": "S001-R-new"}),
                       # Nor are its baskets priced, or coupons checked or held for a sale it cannot make.
                       ("/pos/v1/points/preview", basket), ("/pos/v1/coupons/validate", codes), ("/pos/v1/coupons/reserve", codes)):
        r = await gateway.post(path, json=body, headers=pos(env))
        assert r.status_code == 422, (path, r.text)
        assert r.json()["detail"][0]["loc"] == ["body", "store_id"], (path, r.text)
    # Codes held before it closed can still be given back.
    released = await gateway.post("/pos/v1/coupons/release", json={"store_id": "S001", "pos_txn_id": "S001-T-1"}, headers=pos(env))
    assert released.status_code != 422, released.text
    assert len(await outbox_rows(gateway)) == 2


async def test_malformed_json_is_422(gateway, env: TestEnv) -> None:
    r = await gateway.post(
        "/pos/v1/purchases", content=b'{"store_id": "S001", ', headers={**pos(env), "Content-Type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "json_invalid"


async def test_refunds_are_bounded_by_what_is_left_of_the_sale(gateway, env: TestEnv) -> None:
    sale = sale_body(member={"card_no": "8800000012345"}, lines=[line(qty="2"), line(sku="6902083881085", qty="1", unit_price="139.00")])
    assert (await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))).status_code == 202

    first = refund_body(sale, lines=[line(qty="1")])  # 39.90 of 218.80
    r = await gateway.post("/pos/v1/refunds", json=first, headers=pos(env))
    assert r.status_code == 202, r.text

    # One more bag of rice, which is left, but at a price above the 178.90 left of the sale: above
    # the 39.90 the bag was sold for, first of all.
    too_much = refund_body(sale, lines=[line(qty="1", unit_price="179.00")])
    r = await gateway.post("/pos/v1/refunds", json=too_much, headers=pos(env))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "lines", 0, "amount"]
    assert "at most 39.90" in r.json()["detail"][0]["msg"]
    # A sale accepted before the gateway kept its lines' amounts (migration 0011) has only its total.
    async with gateway.app.state.sessions() as session:
        await session.exec(update(PosSaleRow).where(col(PosSaleRow.pos_txn_id) == sale["pos_txn_id"])
                           .values(sold_detail_by_sku=None))
        await session.commit()
    r = await gateway.post("/pos/v1/refunds", json=too_much, headers=pos(env))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "amount"]
    assert "178.90" in r.json()["detail"][0]["msg"]

    rest = refund_body(sale, lines=[line(qty="1"), line(sku="6902083881085", qty="1", unit_price="139.00")])
    assert (await gateway.post("/pos/v1/refunds", json=rest, headers=pos(env))).status_code == 202

    rows = await outbox_rows(gateway)
    assert [r.event_type for r in rows] == ["crm.pos.purchase_made.v1"] + ["crm.pos.purchase_refunded.v1"] * 2
    assert {r.key for r in rows} == {"card:8800000012345"}  # same partition as the sale: ordered after it


async def test_refund_of_an_unknown_sale_is_422_on_pos_txn_id(gateway, env: TestEnv) -> None:
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale_body()), headers=pos(env))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "pos_txn_id"]


async def test_refund_retry_is_idempotent_and_reuse_is_a_conflict(gateway, env: TestEnv) -> None:
    sale = sale_body(lines=[line(qty="3")])
    await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))
    refund = refund_body(sale, lines=[line(qty="1")])
    first = await gateway.post("/pos/v1/refunds", json=refund, headers=pos(env))
    again = await gateway.post("/pos/v1/refunds", json=refund, headers=pos(env))
    assert again.json() == {"event_id": first.json()["event_id"], "duplicate": True}
    reused = {**refund, "lines": [line(qty="2")], "amount": "79.80"}
    r = await gateway.post("/pos/v1/refunds", json=reused, headers=pos(env))
    assert r.status_code == 409
    # Named as the return, not as a "transaction" a till reads as the sale's pos_txn_id.
    assert r.json()["detail"] == f"return S001/{refund['refund_id']} (refund_id) was already accepted with different content"


async def test_sales_and_returns_carry_the_tills_credential_to_members(gateway, env: TestEnv) -> None:
    """Members checks the till behind every POS event (shared.events.credentials): the gateway
    forwards the token the till authenticated with."""
    headers = pos(env)
    token = headers["Authorization"].removeprefix("Bearer ")
    sale = sale_body(lines=[line(qty="2")])
    assert (await gateway.post("/pos/v1/purchases", json=sale, headers=headers)).status_code == 202
    refund = refund_body(sale, lines=[line(qty="1")])
    assert (await gateway.post("/pos/v1/refunds", json=refund, headers=headers)).status_code == 202
    for row in await outbox_rows(gateway):
        _, kafka_headers = to_kafka(Envelope.model_validate_json(row.envelope))
        assert dict(kafka_headers)["ce_crmcredential"] == token.encode(), row.event_type


async def _second_store(gateway, env: TestEnv) -> None:
    r = await gateway.put("/api/v1/stores/S002", json={"name": "城西社区店", "city": "杭州"}, headers=env.auth(Role.ADMIN))
    assert r.status_code == 200, r.text


async def test_a_return_at_another_store_of_the_chain_is_held_to_its_sale(gateway, env: TestEnv) -> None:
    """Bought at S001, brought back to S002: S002's till posts the return under its own store and
    refund id, naming the sale's store. Its retry is a duplicate, and the sale's rules hold across
    both stores: what S001 took back already counts, and neither store may take back more."""
    await _second_store(gateway, env)
    sale = sale_body(member={"card_no": "8800000012345"}, lines=[line(qty="3")])  # 119.70
    assert (await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))).status_code == 202
    at_s001 = refund_body(sale, lines=[line(qty="1")])
    assert (await gateway.post("/pos/v1/refunds", json=at_s001, headers=pos(env))).status_code == 202

    at_s002 = refund_body(sale, lines=[line(qty="1")], store_id="S002", sale_store_id="S001")
    first = await gateway.post("/pos/v1/refunds", json=at_s002, headers=pos(env, "S002"))
    assert (first.status_code, first.json()["duplicate"]) == (202, False), first.text
    again = await gateway.post("/pos/v1/refunds", json=at_s002, headers=pos(env, "S002"))
    assert (again.status_code, again.json()) == (202, {"event_id": first.json()["event_id"], "duplicate": True})

    # One bag is left of the three: two more are refused, at either store.
    for store in ("S002", "S001"):
        over = refund_body(sale, lines=[line(qty="2")], store_id=store, sale_store_id="S001")
        r = await gateway.post("/pos/v1/refunds", json=over, headers=pos(env, store))
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"] == ["body", "lines", 0, "qty"]
    last = refund_body(sale, lines=[line(qty="1")], store_id="S002", sale_store_id="S001")
    assert (await gateway.post("/pos/v1/refunds", json=last, headers=pos(env, "S002"))).status_code == 202
    nothing_left = refund_body(sale, lines=[line(qty="1")], store_id="S002", sale_store_id="S001")
    assert (await gateway.post("/pos/v1/refunds", json=nothing_left, headers=pos(env, "S002"))).status_code == 422

    rows = await outbox_rows(gateway)
    returns = [json.loads(r.envelope)["data"] for r in rows if r.event_type == "crm.pos.purchase_refunded.v1"]
    assert [(d["store_id"], d.get("sale_store_id"), d["pos_txn_id"]) for d in returns] == [
        ("S001", None, sale["pos_txn_id"]), ("S002", "S001", sale["pos_txn_id"]), ("S002", "S001", sale["pos_txn_id"])]
    assert {r.key for r in rows} == {"card:8800000012345"}  # the sale's partition, whichever store took it back
    async with gateway.app.state.sessions() as session:
        kept = (await session.exec(select(PosRefundRow).order_by(col(PosRefundRow.id)))).all()
    assert [(r.store_id, r.sale_store_id, r.pos_txn_id) for r in kept] == [
        ("S001", None, sale["pos_txn_id"]), ("S002", "S001", sale["pos_txn_id"]), ("S002", "S001", sale["pos_txn_id"])]


async def test_a_return_at_another_store_of_an_anonymous_sale_follows_its_sale(gateway, env: TestEnv) -> None:
    """An anonymous sale travels under its store's key: its return at another store too, so it is
    read after the sale rather than on another partition."""
    await _second_store(gateway, env)
    sale = sale_body(lines=[line(qty="2")])
    assert (await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))).status_code == 202
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, lines=[line(qty="1")], store_id="S002", sale_store_id="S001"),
                           headers=pos(env, "S002"))
    assert r.status_code == 202, r.text
    assert [row.key for row in await outbox_rows(gateway)] == ["store:S001", "store:S001"]


async def test_naming_its_own_store_as_the_sales_is_a_same_store_return(gateway, env: TestEnv) -> None:
    """`sale_store_id` equal to `store_id` means what leaving it out means: the same return, so a
    till that starts sending the field retries its earlier returns as duplicates."""
    sale = sale_body(lines=[line(qty="2")])
    assert (await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))).status_code == 202
    refund = refund_body(sale, lines=[line(qty="1")])
    first = await gateway.post("/pos/v1/refunds", json=refund, headers=pos(env))
    again = await gateway.post("/pos/v1/refunds", json={**refund, "sale_store_id": "S001"}, headers=pos(env))
    assert again.json() == {"event_id": first.json()["event_id"], "duplicate": True}
    data = json.loads((await outbox_rows(gateway))[-1].envelope)["data"]
    assert data.get("sale_store_id") is None


async def test_a_return_naming_an_unknown_store_or_a_sale_it_does_not_have_is_422_on_sale_store_id(gateway, env: TestEnv) -> None:
    await _second_store(gateway, env)
    sale = sale_body(lines=[line(qty="2")])
    assert (await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))).status_code == 202
    unknown_store = refund_body(sale, lines=[line(qty="1")], store_id="S002", sale_store_id="S999")
    r = await gateway.post("/pos/v1/refunds", json=unknown_store, headers=pos(env, "S002"))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "sale_store_id"]
    assert "S999" in r.json()["detail"][0]["msg"]
    # The sale is S001's: S002 (the returning store itself) has none under that id.
    not_there = refund_body(sale, lines=[line(qty="1")], store_id="S001", sale_store_id="S002")
    r = await gateway.post("/pos/v1/refunds", json=not_there, headers=pos(env))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "sale_store_id"]
    assert f"no sale S002/{sale['pos_txn_id']} is known" in r.json()["detail"][0]["msg"]
    # Without the field, the sale is the returning store's, as before: S002 has none.
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, lines=[line(qty="1")], store_id="S002"),
                           headers=pos(env, "S002"))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "pos_txn_id"]
    assert len(await outbox_rows(gateway)) == 1


async def test_a_till_returns_only_under_its_own_store_whatever_store_sold(gateway, env: TestEnv) -> None:
    await _second_store(gateway, env)
    sale = sale_body(lines=[line(qty="2")])
    assert (await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))).status_code == 202
    for body in (refund_body(sale, lines=[line(qty="1")]),
                 refund_body(sale, lines=[line(qty="1")], sale_store_id="S002")):
        r = await gateway.post("/pos/v1/refunds", json=body, headers=pos(env, "S002"))
        assert r.status_code == 403, r.text
    assert len(await outbox_rows(gateway)) == 1


async def test_a_return_of_a_sale_of_a_closed_store_is_taken_at_an_open_one(gateway, env: TestEnv) -> None:
    """The sale's store need only be one the chain had: goods bought at a store since closed come
    back at another."""
    await _second_store(gateway, env)
    sale = sale_body(lines=[line(qty="2")])
    assert (await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))).status_code == 202
    r = await gateway.put("/api/v1/stores/S001", json={"name": "城东大卖场", "city": "杭州", "active": False},
                          headers=env.auth(Role.ADMIN))
    assert r.status_code == 200, r.text
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, lines=[line(qty="1")], store_id="S002", sale_store_id="S001"),
                           headers=pos(env, "S002"))
    assert r.status_code == 202, r.text
