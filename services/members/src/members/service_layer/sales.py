"""Commands and event handlers of the members service, one function each."""

import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from members.adapters.tables import MemberRow, PurchaseLineRow, PurchaseRow
from members.api.schemas import MemberCreate
from members.domain.cards import new_card_no
from members.domain.spend import record_purchase
from shared.consumer import Delivery
from shared.events import contracts as c
from shared.events.registry import MEMBER_REGISTERED, PURCHASE_ATTRIBUTED
from shared.pseudonyms import phone_hmac
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class MemberConflict(Exception):
    """The phone or card number already belongs to a member."""


async def register_member(uow: UnitOfWork, cmd: MemberCreate, pepper: str) -> MemberRow:
    session = uow.session
    clash = (
        await session.exec(
            select(MemberRow).where(or_(MemberRow.phone == cmd.phone, MemberRow.card_no == (cmd.card_no or "")))
        )
    ).first()
    if clash is not None:
        field = "phone" if clash.phone == cmd.phone else "card_no"
        raise MemberConflict(f"{field} is already registered to member {clash.id}")
    now = datetime.now(UTC)
    member = MemberRow(
        id=str(uuid.uuid4()),
        card_no=cmd.card_no or new_card_no(),
        name=cmd.name,
        phone=cmd.phone,
        phone_hmac=phone_hmac(cmd.phone, pepper),
        community=cmd.community,
        address=cmd.address,
        channel=cmd.channel,
        birthday=cmd.birthday,
        home_store_id=cmd.home_store_id,
        consent_sms=cmd.consents.sms,
        consent_sms_at=now if cmd.consents.sms else None,
        created_at=now,
    )
    session.add(member)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent registration of the same phone or card
        raise MemberConflict("phone or card_no is already registered") from exc
    uow.emit(
        MEMBER_REGISTERED,
        c.MemberRegisteredV1(
            member_id=member.id, card_no=member.card_no, channel=member.channel,  # type: ignore[arg-type]
            home_store_id=member.home_store_id, registered_at=now,
        ),
        key=member.id,
        subject=member.id,
    )
    # Sales made with this card or phone before registration are credited now.
    waiting = (
        await session.exec(
            select(PurchaseRow)
            .where(PurchaseRow.member_id.is_(None))  # type: ignore[union-attr]
            .where(or_(PurchaseRow.card_no == member.card_no, PurchaseRow.phone_hmac == member.phone_hmac))
            .order_by(PurchaseRow.occurred_at)  # type: ignore[arg-type]
        )
    ).all()
    for purchase in waiting:
        lines = (await session.exec(select(PurchaseLineRow).where(PurchaseLineRow.purchase_id == purchase.id))).all()
        _attribute(uow, member, purchase, list(lines), late_match=True)
    return member


async def on_purchase_made(uow: UnitOfWork, delivery: Delivery) -> None:
    sale: c.PurchaseMadeV1 = delivery.payload  # type: ignore[assignment]
    session = uow.session
    existing = (
        await session.exec(
            select(PurchaseRow).where(PurchaseRow.store_id == sale.store_id, PurchaseRow.pos_txn_id == sale.pos_txn_id)
        )
    ).first()
    if existing is not None:
        # The same POS transaction under another event id (e.g. a vendor re-sending it directly):
        # the first one counts; a differing one is logged for staff, never applied twice.
        log.warning(
            "sale %s/%s already recorded from event %s; ignoring event %s",
            sale.store_id, sale.pos_txn_id, existing.sale_event_id, delivery.envelope.id,
        )
        return
    customer = sale.customer
    purchase = PurchaseRow(
        sale_event_id=delivery.envelope.id,
        store_id=sale.store_id,
        pos_txn_id=sale.pos_txn_id,
        card_no=customer.card_no if customer else None,
        phone_hmac=customer.phone_hmac if customer else None,
        occurred_at=sale.occurred_at,
        total=sale.total,
        payment=sale.payment,
        received_at=datetime.now(UTC),
    )
    lines = [
        PurchaseLineRow(
            line_no=i, sku=line.sku, name=line.name, category=line.category,
            qty=line.qty, unit_price=line.unit_price, amount=line.amount,
        )
        for i, line in enumerate(sale.lines, start=1)
    ]
    # The member is looked up first so the purchase row is written once, already attributed.
    # An anonymous sale, or one whose card or phone is not registered yet, is kept unattributed.
    member = await _member_for(uow, customer) if customer else None
    if member is not None:
        _attribute(uow, member, purchase, lines, late_match=False)
    session.add(purchase)
    await session.flush()
    for line in lines:
        line.purchase_id = purchase.id  # type: ignore[assignment]
    session.add_all(lines)


async def _member_for(uow: UnitOfWork, customer: c.CustomerRef) -> MemberRow | None:
    by = MemberRow.card_no == customer.card_no if customer.card_no else MemberRow.phone_hmac == customer.phone_hmac
    return (await uow.session.exec(select(MemberRow).where(by))).first()


def _attribute(
    uow: UnitOfWork, member: MemberRow, purchase: PurchaseRow, lines: list[PurchaseLineRow], *, late_match: bool
) -> None:
    purchase.member_id = member.id
    purchase.attributed_at = datetime.now(UTC)
    record_purchase(member, purchase.total, purchase.occurred_at)
    uow.session.add_all([purchase, member])
    uow.emit(
        PURCHASE_ATTRIBUTED,
        c.PurchaseAttributedV1(
            member_id=member.id,
            sale_event_id=purchase.sale_event_id,
            store_id=purchase.store_id,
            pos_txn_id=purchase.pos_txn_id,
            occurred_at=purchase.occurred_at,
            total=purchase.total,
            lines=[c.AttributedLine(sku=ln.sku, category=ln.category, qty=ln.qty, amount=ln.amount) for ln in lines],
            late_match=late_match,
        ),
        key=member.id,
        subject=member.id,
    )
