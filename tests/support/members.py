"""Driving the members service in tests: register customers, hand it POS events as the broker would."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from shared.auth import Role, TokenIssuer, ensure_dev_keypair
from shared.events import contracts as c
from shared.events.envelope import Envelope, new_event, sale_event_id
from shared.events.registry import PURCHASE_MADE, PURCHASE_REFUNDED
from shared.outbox import OutboxRecord
from shared.pseudonyms import phone_hmac
from tests.support.factories import line, member_body
from tests.support.platform import PEPPER, TestEnv, service

SALE_TIME = datetime(2026, 11, 23, 2, 15, tzinfo=UTC)


@pytest.fixture
async def members(env: TestEnv, database_factory):
    """The members service alone on the test's backend; its app is at `members.app`."""
    from members.config import Settings
    from members.main import create_app

    async with service(create_app(env.settings(Settings, await database_factory("members")))) as client:
        yield client


def till_credential(members, store: str) -> str:
    """The bearer token of a till of `store`, which POS events carry (shared.events.credentials);
    minted with the test's development key, the one the service verifies with."""
    private, _ = ensure_dev_keypair(members.app.state.settings.data_dir / "keys")
    return TokenIssuer(private).mint(f"till-{store}", Role.POS, store_id=store)


def desk(env: TestEnv) -> dict[str, str]:
    return env.auth(Role.SERVICE_DESK, store_id="S001")


async def register(members, env: TestEnv, **fields) -> dict:
    r = await members.post("/v1/members", json=member_body(**fields), headers=desk(env))
    assert r.status_code == 201, r.text
    return r.json()


def sale_event(members, *, card_no: str | None = None, phone: str | None = None, total_qty: str = "2",
               store: str = "S001", txn: str | None = None, event_id: str | None = None,
               lines: list[dict] | None = None, occurred_at: datetime | None = None,
               coupons: list[str] | None = None, discounts: list[dict] | None = None) -> Envelope:
    """A purchase-made event as a till of `store` publishes it (`deliver_sale`, `deliver_batch`)."""
    txn = txn or f"T-{uuid.uuid4().hex[:8]}"
    customer = None
    if card_no:
        customer = c.CustomerRef(card_no=card_no)
    elif phone:
        customer = c.CustomerRef(phone_hmac=phone_hmac(phone, PEPPER))
    lines = [c.SaleLine.model_validate(ln) for ln in (lines or [line(qty=total_qty)])]
    sale = c.PurchaseMadeV1(
        store_id=store, pos_txn_id=txn, occurred_at=occurred_at or SALE_TIME, customer=customer,
        lines=lines, total=sum((ln.amount for ln in lines), Decimal("0.00")), payment="wechat",
        coupons=coupons or [], discounts=[c.Discount.model_validate(d) for d in discounts or []],
    )
    return new_event(PURCHASE_MADE, sale, source="test/pos", event_id=event_id or sale_event_id(store, txn),
                     credential=till_credential(members, store))


async def deliver_sale(members, **sale) -> str:
    """Hands a purchase-made event to the consumer's exactly-once path, as the broker would;
    answers the sale's POS transaction id. Takes `sale_event`'s arguments."""
    envelope = sale_event(members, **sale)
    await deliver_batch(members, [envelope])
    return envelope.data["pos_txn_id"]


async def deliver_batch(members, envelopes: list[Envelope]) -> None:
    """Hands several events to the consumer as one batch of records, in this order (one
    transaction; runs of one type go to its batch handler together)."""
    consumer = members.app.state.consumer
    await consumer.apply_batch([consumer.delivery(e) for e in envelopes])


async def outbox(members, event_type: str) -> list[OutboxRecord]:
    async with members.app.state.sessions() as s:
        # In the order they were written: tests read the latest as events[-1].
        query = select(OutboxRecord).where(OutboxRecord.event_type == event_type).order_by(OutboxRecord.id)
        return list((await s.exec(query)).all())




def refund_event(members, *, txn: str, lines: list[dict], store: str = "S001", refund_id: str | None = None,
                 card_no: str | None = None, event_id: str | None = None,
                 occurred_at: datetime | None = None, sale_store: str | None = None) -> Envelope:
    """A purchase-refunded event as a till of `store` publishes it (of a sale of `sale_store`, when
    the goods came back at another store than the one that sold them)."""
    refund_id = refund_id or f"R-{uuid.uuid4().hex[:8]}"
    sale_lines = [c.SaleLine.model_validate(ln) for ln in lines]
    refund = c.PurchaseRefundedV1(
        store_id=store, refund_id=refund_id, pos_txn_id=txn, occurred_at=occurred_at or SALE_TIME,
        customer=c.CustomerRef(card_no=card_no) if card_no else None, lines=sale_lines,
        amount=sum((ln.amount for ln in sale_lines), Decimal("0.00")), sale_store_id=sale_store,
    )
    return new_event(PURCHASE_REFUNDED, refund, source="test/pos",
                     event_id=event_id or sale_event_id(store, refund_id, "refund"),
                     credential=till_credential(members, store))


async def deliver_refund(members, **refund) -> str:
    """Hands a purchase-refunded event to the consumer, as the broker would; returns the refund id.
    Takes `refund_event`'s arguments."""
    envelope = refund_event(members, **refund)
    await deliver_batch(members, [envelope])
    return envelope.data["refund_id"]
