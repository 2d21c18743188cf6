"""Accepting POS returns: validate, record once, publish through the outbox; and the refusals POS
entry shares with sales (`pos_purchases`)."""


from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlmodel import select

from gateway.adapters.tables import (
    PosRefundRow,
    PosSaleRow,
    amounts_of,
    amounts_text,
    quantities_of,
    quantities_text,
    sold_skus_of,
)
from gateway.domain.pos import (
    IMPORTED,
    PUBLISHED,
    amounts_taken_back,
    before_sale_problem,
    payload_digest,
    refundable,
    request_digest,
    return_lines_problem,
    taken_back,
)
from gateway.domain.sales import PosRefundIn
from gateway.service_layer.stores import ensure_store, no_open_store
from shared.errors import Conflict, InvalidBodyField
from shared.events import contracts as c
from shared.events.envelope import sale_event_id
from shared.events.registry import PURCHASE_REFUNDED
from shared.unit_of_work import UnitOfWork


class InvalidField(InvalidBodyField):
    """A request that is well-formed but refers to something that does not exist or does not fit
    (422). Tills read it in the shape of the schema's own 422s: one format for every bad field."""


class InvalidLineField(InvalidField):
    """An `InvalidField` of one line's field: named `lines[i].sku` in the message, and located as
    request validation locates a line's own bad field (`["body", "lines", i, "sku"]`)."""

    def __init__(self, index: int, name: str, message: str) -> None:
        super().__init__(f"lines[{index}].{name}", message)
        self.index, self.name = index, name

    def detail(self) -> Any:
        return [{"loc": ["body", "lines", self.index, self.name], "msg": self.message, "type": "value_error", "input": None}]


class ConflictingRetry(Conflict):
    """The transaction id was already used for different content (409)."""


def taken(store_id: str, pos_txn_id: str, earlier_digest: str) -> ConflictingRetry:
    """The refusal of a sale whose transaction id holds a different sale already."""
    if earlier_digest == IMPORTED:
        return ConflictingRetry(
            f"transaction {store_id}/{pos_txn_id} is a past sale brought in by the import of the chain's history; "
            "a till's sale needs a transaction id of its own")
    if earlier_digest == PUBLISHED:
        return ConflictingRetry(
            f"transaction {store_id}/{pos_txn_id} is a sale a till published to Kafka, naming its customer by the "
            "phone's digest, which cannot be compared with this request: a sale through the API needs a transaction id of its own")
    return ConflictingRetry(f"transaction {store_id}/{pos_txn_id} was already accepted with different content")


def unknown_store(store_id: str) -> InvalidField:
    """The refusal of a sale or return for a store the gateway does not accept traffic for."""
    return no_open_store(store_id, kind=InvalidField)  # type: ignore[return-value]


async def _earlier(uow: UnitOfWork, id_column, store_id: str, txn_id: str, digest: str) -> str | None:
    """The event id of an earlier acceptance of this POS transaction (an honest retry), None if
    there was none; a different request under the same id is a conflict, never applied."""
    table = id_column.class_
    row = (await uow.session.exec(select(table).where(table.store_id == store_id, id_column == txn_id))).first()
    if row is None:
        return None
    if row.digest != digest:
        # Named as the return it is: "transaction <refund id>" read as the sale's pos_txn_id to a till.
        raise ConflictingRetry(f"return {store_id}/{txn_id} (refund_id) was already accepted with different content")
    return row.event_id


async def accept_refund(uow: UnitOfWork, body: PosRefundIn, credential: str) -> tuple[str, bool]:
    """A return at the till of `store_id` (its token's store, checked by the route), of the sale
    `pos_txn_id` of `sale_store_id`, any store of the chain (the customer's goods may come back at
    another store than the one that sold them), else of its own store. Every rule is the sale's,
    whichever store takes the goods back; the return's own id is its store's (`refund_id`)."""
    digest = payload_digest(body, uow.settings.zone)
    sale_store = body.sale_store
    sale = (
        await uow.session.exec(
            select(PosSaleRow)
            .where(PosSaleRow.store_id == sale_store, PosSaleRow.pos_txn_id == body.pos_txn_id)
            .with_for_update()  # two returns against one sale must not both pass the remaining check
        )
    ).first()
    # Looked for under the sale's lock: a retry racing its original waits here for it, then finds
    # it and is answered as it. Looked for first, it would find nothing yet and then be held to
    # what the original left of the sale, a 422 for a return of all of it.
    earlier = await _earlier(uow, PosRefundRow.refund_id, body.store_id, body.refund_id, digest)
    if earlier is not None:
        return earlier, True
    # Checked after the retry: a till retrying a return accepted before its store closed (its
    # answer lost) must hear that it was accepted, not a 422 that it was refused.
    await ensure_store(uow.session, body.store_id, kind=InvalidField)
    if body.sale_store_id is not None:
        # Any store the chain has or had: goods bought at a store since closed still come back.
        await ensure_store(uow.session, body.sale_store_id, field="sale_store_id", kind=InvalidField, closed_too=True)
    if sale is None:
        # Named as the field the till chose the sale by: its own store's, or the one it named.
        field = "pos_txn_id" if body.sale_store_id is None else "sale_store_id"
        raise InvalidField(field, f"no sale {sale_store}/{body.pos_txn_id} is known")
    if problem := before_sale_problem(body.occurred_at, sale.occurred_at):
        raise InvalidField("occurred_at", problem)
    _take_back(sale, body.lines, body.amount, f"{sale_store}/{body.pos_txn_id}")
    uow.session.add(sale)  # what the return takes back, in the transaction holding the sale's lock

    customer = None
    if sale.card_no or sale.phone_hmac:
        customer = c.CustomerRef(card_no=sale.card_no, phone_hmac=sale.phone_hmac)
    event_id = sale_event_id(body.store_id, body.refund_id, kind="refund")
    uow.session.add(
        PosRefundRow(
            store_id=body.store_id, refund_id=body.refund_id, pos_txn_id=body.pos_txn_id, sale_store_id=body.sale_store_id,
            event_id=event_id, digest=digest, amount=body.amount, accepted_at=uow.now(),
        )
    )
    uow.emit(
        PURCHASE_REFUNDED,
        c.PurchaseRefundedV1(
            store_id=body.store_id, refund_id=body.refund_id, pos_txn_id=body.pos_txn_id, occurred_at=body.occurred_at,
            customer=customer, lines=list[c.SaleLine](body.lines), amount=body.amount, sale_store_id=body.sale_store_id,
        ),
        # Same key as the sale (an anonymous one's is its own store's), so the return is never read
        # before the sale it reverses.
        key=customer.key if customer else f"store:{sale_store}",
        event_id=event_id,
        credential=credential,
    )
    return event_id, False


def _take_back(sale: PosSaleRow, lines: Sequence[c.SaleLine], amount: Decimal, sale_name: str, *, lines_held: bool = True) -> None:
    """Takes the return's lines and amount off what is left of `sale`, or raises why they do not fit
    (taking nothing). A sale accepted before the gateway kept its quantities (NULL) is held to its
    amount only, as is every sale when not `lines_held`."""
    returned_after: str | None = None
    paid_back_after: str | None = None
    if sale.sold_by_sku is not None and lines_held:
        returned = quantities_of(sale.returned_by_sku)
        # Categories and amounts too, but for a sale accepted before the gateway kept them (NULL,
        # migration 0011) or imported before the announcements carried them: those are held to
        # sku and quantity only.
        sold_as = sold_skus_of(sale.sold_detail_by_sku) if sale.sold_detail_by_sku is not None else None
        paid_back = amounts_of(sale.returned_amount_by_sku)
        if wrong := return_lines_problem(lines, quantities_of(sale.sold_by_sku), returned, sale_name,
                                         sold_as=sold_as, returned_amounts=paid_back):
            raise InvalidLineField(*wrong)
        returned_after = quantities_text(taken_back(returned, lines))
        if sold_as is not None:
            paid_back_after = amounts_text(amounts_taken_back(paid_back, lines))
    left = refundable(sale.total, sale.refunded_total)
    if amount > left:
        raise InvalidField("amount", f"refund of {amount} exceeds what is left of the sale ({left})")
    sale.refunded_total += amount
    if returned_after is not None:
        sale.returned_by_sku = returned_after
    if paid_back_after is not None:
        sale.returned_amount_by_sku = paid_back_after


async def record_published_refund(uow: UnitOfWork, event_id: str, refund: c.PurchaseRefundedV1) -> None:
    """A return a till published straight to Kafka, kept as if it had come through the API: what it
    took back of its sale, so that a return at a desk is held to what is left, and its `refund_id`,
    so that the same return posted is answered as a retry and another refused. Members holds such a
    return to what is left of the sale's amount only, and so is it here: lines that do not fit what
    the gateway kept of the sale take back their amount alone; one over what is left, which members
    dead-letters, takes back nothing. A sale the gateway never learnt of (published before it read
    them) has nothing here to take back from."""
    sale_store = refund.sale_store_id or refund.store_id
    sale = (await uow.session.exec(
        select(PosSaleRow).where(PosSaleRow.store_id == sale_store, PosSaleRow.pos_txn_id == refund.pos_txn_id).with_for_update()
    )).first()
    if sale is None or (await uow.session.exec(select(PosRefundRow.id).where(
            PosRefundRow.store_id == refund.store_id, PosRefundRow.refund_id == refund.refund_id))).first() is not None:
        return
    name = f"{sale_store}/{refund.pos_txn_id}"
    try:
        try:
            _take_back(sale, refund.lines, refund.amount, name)
        except InvalidLineField:
            _take_back(sale, refund.lines, refund.amount, name, lines_held=False)
    except InvalidField:
        return
    uow.session.add(sale)
    data = refund.model_dump(mode="json", exclude={"customer"})
    uow.session.add(PosRefundRow(
        store_id=refund.store_id, refund_id=refund.refund_id, pos_txn_id=refund.pos_txn_id, sale_store_id=refund.sale_store_id,
        event_id=event_id, digest=request_digest(PosRefundIn, data, uow.settings.zone), amount=refund.amount, accepted_at=uow.now(),
    ))
