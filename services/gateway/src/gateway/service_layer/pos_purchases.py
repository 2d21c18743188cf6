"""Accepting POS sales: checked once, recorded once per `(store_id, pos_txn_id)`, published
through the outbox; many sales per transaction (`group_commit`).

The sale's rows are written with a few multi-row statements on plain columns (no ORM objects):
the ORM's per-row bookkeeping was most of what accepting a sale cost the gateway."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from asgi_correlation_id import correlation_id
from sqlalchemy import tuple_
from sqlmodel import select

from gateway.adapters.tables import PosSaleRow, quantities_text, sold_skus_text
from gateway.domain.pos import IMPORTED, PUBLISHED, payload_digest, request_digest
from gateway.domain.sales import PosPurchaseIn
from gateway.service_layer.pos import ConflictingRetry, taken, unknown_store
from gateway.service_layer.stores import OpenStores
from shared.db import BulkInsert
from shared.events import contracts as c
from shared.events.contracts.pos import SoldSku, quantities_by_sku, sold_skus
from shared.events.envelope import sale_event_id
from shared.events.registry import PURCHASE_MADE
from shared.pseudonyms import phone_hmac
from shared.unit_of_work import UnitOfWork

SALES = PosSaleRow.__table__  # type: ignore[attr-defined]

# A group's statements are built once, with bound parameters: built for every group (of 20
# sales, say), they cost the writer about half of the CPU writing a group took on PostgreSQL.
# ON CONFLICT DO NOTHING: a sale accepted before (or by another replica just now) is kept as it
# is; on PostgreSQL the statement waits for a racing transaction to end first.
_INSERT_SALES = BulkInsert(
    SALES,
    ["store_id", "pos_txn_id", "event_id", "digest", "card_no", "phone_hmac", "total", "refunded_total", "occurred_at",
     "accepted_at", "sold_by_sku", "sold_detail_by_sku"],
    lambda insert: insert.on_conflict_do_nothing().returning(SALES.c.store_id, SALES.c.pos_txn_id),
)

# The sales `crm import-sales` recorded, as members announces them (`sales_imported`): kept beside
# the tills' sales so that no till's sale takes their transaction id and their returns are held to
# them. Their digest (`IMPORTED`) is no fingerprint of a POS body: a till's sale under the id is
# always a different sale (409). No card or phone: members links a return to its sale by the id.
_INSERT_IMPORTED = BulkInsert(
    SALES,
    ["store_id", "pos_txn_id", "event_id", "digest", "total", "refunded_total", "occurred_at", "accepted_at", "sold_by_sku",
     "sold_detail_by_sku"],
    lambda insert: insert.on_conflict_do_nothing(),
)

Accepted = tuple[str, bool]  # the sale's event id, and whether this request was a retry


@dataclass(frozen=True)
class PendingSale:
    """A sale as the request hands it to the writer: everything that needs no database."""

    store_id: str
    pos_txn_id: str
    event_id: str
    digest: str
    total: Decimal
    occurred_at: datetime
    sold_by_sku: str  # what a return of it may take back (`pos_sale.sold_by_sku`)
    sold_detail_by_sku: str  # under which category and for how much (`pos_sale.sold_detail_by_sku`)
    event: c.PurchaseMadeV1
    key: str
    credential: str
    correlation_id: str | None

    @property
    def txn(self) -> tuple[str, str]:
        return self.store_id, self.pos_txn_id


def pending_sale(body: PosPurchaseIn, pepper: str, credential: str, zone: ZoneInfo) -> PendingSale:
    """`credential` is the till's bearer token: it travels with the event, so that members can
    check that a till of this store made the sale (shared.events.credentials). Built in the
    request, so the event keeps the request's correlation id."""
    customer = None
    if body.member is not None:
        customer = c.CustomerRef(
            card_no=body.member.card_no,
            phone_hmac=phone_hmac(body.member.phone, pepper) if body.member.phone else None,
        )
    # The body passed the same rules as the event (shared.events.contracts.pos) when it was read:
    # model_construct takes its already validated values instead of validating them again.
    event = c.PurchaseMadeV1.model_construct(
        store_id=body.store_id, pos_txn_id=body.pos_txn_id, occurred_at=body.occurred_at, customer=customer,
        # The body's lines and discounts are the event's, read with unknown fields refused (`SaleLineIn`).
        lines=list[c.SaleLine](body.lines), total=body.total, payment=body.payment, coupons=body.coupons,
        discounts=list[c.Discount](body.discounts),
    )
    return PendingSale(
        store_id=body.store_id, pos_txn_id=body.pos_txn_id, event_id=sale_event_id(body.store_id, body.pos_txn_id),
        digest=payload_digest(body, zone), total=body.total, occurred_at=body.occurred_at,
        # Encoded here, in the request, rather than by the writer while it holds the transaction.
        sold_by_sku=quantities_text(quantities_by_sku(body.lines)), sold_detail_by_sku=sold_skus_text(sold_skus(body.lines)),
        event=event,
        key=customer.key if customer else f"store:{body.store_id}", credential=credential,
        correlation_id=correlation_id.get(),
    )


async def accept_purchases(uow: UnitOfWork, sales: Sequence[PendingSale], *, stores: OpenStores) -> list[Accepted | Exception]:
    """Records the sales not recorded yet and queues their events; answers, per sale in order, its
    event id and whether it was a retry, or its refusal (which does not stop the others): an
    unknown or inactive store (but for a retry of a sale accepted before its store closed), or a
    transaction id already accepted with different content."""
    session = uow.session
    open_stores = await stores.open_among(session, {sale.store_id for sale in sales})
    # The first sale of each transaction id is the one written; a copy in the same group (two
    # identical retries racing) is answered from its outcome like any later retry.
    first: dict[tuple[str, str], PendingSale] = {}
    for sale in sales:
        if sale.store_id in open_stores:
            first.setdefault(sale.txn, sale)
    inserted: set[tuple[str, str]] = set()
    if first:
        now = uow.now()
        rows = [
            {"store_id": s.store_id, "pos_txn_id": s.pos_txn_id, "event_id": s.event_id, "digest": s.digest,
             "card_no": s.event.customer.card_no if s.event.customer else None,
             "phone_hmac": s.event.customer.phone_hmac if s.event.customer else None,
             "total": s.total, "refunded_total": Decimal("0.00"), "occurred_at": s.occurred_at, "accepted_at": now,
             "sold_by_sku": s.sold_by_sku, "sold_detail_by_sku": s.sold_detail_by_sku}
            for s in first.values()
        ]
        inserted = {(row[0], row[1]) for row in (await _INSERT_SALES.run(session, rows)).all()}
    earlier: dict[tuple[str, str], tuple[str, str]] = {}  # txn -> (digest, event id) of an earlier acceptance
    # A sale of a store closed since is looked for too: a till retrying a sale accepted before its
    # store closed (its answer lost) must hear that it was accepted, not a 422 that it was refused.
    closed = {sale.txn for sale in sales if sale.store_id not in open_stores}
    if missing := [txn for txn in first if txn not in inserted] + sorted(closed):
        found = await session.exec(
            select(SALES.c.store_id, SALES.c.pos_txn_id, SALES.c.digest, SALES.c.event_id)
            .where(tuple_(SALES.c.store_id, SALES.c.pos_txn_id).in_(missing))
        )
        earlier = {(row[0], row[1]): (row[2], row[3]) for row in found.all()}
    for txn in inserted:
        earlier[txn] = (first[txn].digest, first[txn].event_id)

    written = [first[txn] for txn in first if txn in inserted]
    for s in written:  # each sale's event carries its own till's credential and request's correlation id
        uow.emit(PURCHASE_MADE, s.event, key=s.key, event_id=s.event_id, credential=s.credential,
                 correlation=s.correlation_id)

    outcomes: list[Accepted | Exception] = []
    for sale in sales:
        if sale.store_id not in open_stores and sale.txn not in earlier:
            outcomes.append(unknown_store(sale.store_id))
        elif sale.txn not in earlier:
            # Neither written nor found: the racing transaction that held the id rolled back after
            # ours gave way. Not applied; the till's retry is accepted.
            outcomes.append(ConflictingRetry(f"transaction {sale.store_id}/{sale.pos_txn_id} is being accepted by another request; retry"))
        elif earlier[sale.txn][0] != sale.digest:
            outcomes.append(taken(sale.store_id, sale.pos_txn_id, earlier[sale.txn][0]))
        else:
            outcomes.append((earlier[sale.txn][1], not (sale.txn in inserted and first[sale.txn] is sale)))
    return outcomes


async def record_imported(uow: UnitOfWork, sales: Sequence[c.ImportedSaleRef]) -> None:
    """Keeps the imported sales not kept yet: a transaction a till brought first stays the till's
    (members answered the import's row present, and recorded nothing of it)."""
    now = uow.now()
    rows = [
        {"store_id": s.store_id, "pos_txn_id": s.pos_txn_id, "event_id": sale_event_id(s.store_id, s.pos_txn_id),
         "digest": IMPORTED, "total": s.total, "refunded_total": Decimal("0.00"), "occurred_at": s.occurred_at,
         "accepted_at": now,
         # A sale kept as its total only is held to its amount, as one accepted before the lines were kept.
         "sold_by_sku": quantities_text({q.sku: q.qty for q in s.sold}) if s.sold else None,
         "sold_detail_by_sku": _sold_detail(s.sold)}
        for s in sales
    ]
    await _INSERT_IMPORTED.run(uow.session, rows)


async def record_published(uow: UnitOfWork, sales: Sequence[tuple[str, c.PurchaseMadeV1]]) -> None:
    """Keeps the sales tills published straight to Kafka (event id, sale), as if they had come
    through the API: a till's request under the same transaction id is then answered as a retry
    of the same sale or refused as another (409), instead of accepted (202) and dead-lettered by
    members; and a return at a desk through the API finds its sale. A transaction kept already
    (through the API, or an earlier copy) stays as it was kept, as members keeps the first version."""
    zone = uow.settings.zone
    rows = [
        {"store_id": sale.store_id, "pos_txn_id": sale.pos_txn_id, "event_id": event_id, "digest": _request_digest(sale, zone),
         "card_no": sale.customer.card_no if sale.customer else None,
         "phone_hmac": sale.customer.phone_hmac if sale.customer else None,
         "total": sale.total, "refunded_total": Decimal("0.00"), "occurred_at": sale.occurred_at, "accepted_at": uow.now(),
         "sold_by_sku": quantities_text(quantities_by_sku(sale.lines)), "sold_detail_by_sku": sold_skus_text(sold_skus(sale.lines))}
        for event_id, sale in sales
    ]
    await _INSERT_SALES.run(uow.session, rows)


def _request_digest(sale: c.PurchaseMadeV1, zone: ZoneInfo) -> str:
    """The sale's fingerprint as a till's request for it: one naming its customer by a phone's digest
    has none (`PUBLISHED`), the request naming the phone."""
    if sale.customer is not None and sale.customer.phone_hmac is not None:
        return PUBLISHED
    data = sale.model_dump(mode="json", exclude={"customer"})
    if sale.customer is not None:
        data["member"] = {"card_no": sale.customer.card_no}
    return request_digest(PosPurchaseIn, data, zone)


def _sold_detail(sold: Sequence[c.SoldQuantity]) -> str | None:
    """An imported sale's categories and amounts per sku, as a till's sale keeps them; None (its
    returns held to sku and quantity only) for one announced before they were carried."""
    if not sold or any(q.categories is None or q.amount is None for q in sold):
        return None
    return sold_skus_text({q.sku: SoldSku(tuple(q.categories or ()), q.amount or Decimal(0)) for q in sold})


async def forget_customers(uow: UnitOfWork, sales: Sequence[c.SaleKey]) -> None:
    """An erased member's sales keep no card number or phone digest (members' `member_sales_erased`),
    as members' purchases no longer do: the gateway's pepper makes a digest of any phone, which
    would otherwise find the erased customer's sales. A return of one of them then names no
    customer; members links it to its sale by the transaction id. A sale still on its way to
    members when the member was erased is not among them (docs/architecture.md, Known limits)."""
    await uow.session.exec(
        SALES.update().where(tuple_(SALES.c.store_id, SALES.c.pos_txn_id).in_([(s.store_id, s.pos_txn_id) for s in sales]))
        .values(card_no=None, phone_hmac=None)
    )
