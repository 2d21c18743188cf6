"""A member's purchases as e-receipts: each purchase with its lines and the returns made of it.

Read with two Core statements (the page of purchases joined to their lines; the returns of those
purchases joined to theirs) into plain dicts shaped as the API's `PurchaseWithReturns`: the
customer-360 view and the app's receipts page read this on every view, where ORM rows, four
queries and a second validation of every purchase cost most of the request's CPU.

The app pages by keyset (`before`: the last purchase of the previous page, by store and
transaction): a sale that lands while the member scrolls goes to the top of the list, before that
purchase, and moves nothing after it, where an `offset` would shift by one and show an item twice.
"""

from typing import Any

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from members.adapters.tables import PurchaseLineRow, PurchaseRow, ReturnLineRow, ReturnRow
from shared.errors import Invalid

_P, _L, _R, _RL = PurchaseRow.__table__.c, PurchaseLineRow.__table__.c, ReturnRow.__table__.c, ReturnLineRow.__table__.c  # type: ignore[attr-defined]
_LINE = ("sku", "name", "category", "qty", "unit_price", "amount")


def _page_statement(*, one_sale: bool = False, after_key: bool = False) -> Select[Any]:
    """`one_sale`: only the purchase of `store_id` and `pos_txn_id` (a sale is known by both).
    `after_key`: only the purchases after the member's purchase of `before_store_id` and
    `before_pos_txn_id` in the list's order (occurred_at desc, id desc)."""
    wanted = [_P.member_id == bindparam("member_id")]
    if one_sale:
        wanted += [_P.store_id == bindparam("store_id"), _P.pos_txn_id == bindparam("pos_txn_id")]
    source: Any = PurchaseRow.__table__  # type: ignore[attr-defined]
    if after_key:
        # The named purchase joined in the same statement (one row, by the store and transaction's
        # unique index) rather than read first: its time is compared as stored, never round-tripped
        # through Python, and a page costs no extra query. Only the member's own purchase matches:
        # another's would otherwise reveal where their sales fall in time.
        last = PurchaseRow.__table__.alias("last_shown")  # type: ignore[attr-defined]
        source = source.join(last, and_(
            last.c.member_id == bindparam("member_id"),
            last.c.store_id == bindparam("before_store_id"), last.c.pos_txn_id == bindparam("before_pos_txn_id"),
        ))
        # The id breaks ties between purchases of the same instant, as the order does. The `<=` says
        # the same as the OR's first half, but as a bound on the (member_id, occurred_at) index, so a
        # deep page starts at the key instead of filtering every newer purchase.
        wanted += [_P.occurred_at <= last.c.occurred_at,
                   or_(_P.occurred_at < last.c.occurred_at, _P.id < last.c.id)]
    page = (
        select(_P.id, _P.store_id, _P.pos_txn_id, _P.occurred_at, _P.total, _P.discount, _P.payment)
        .select_from(source)
        .where(*wanted)
        .order_by(_P.occurred_at.desc(), _P.id.desc())
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
        .subquery()
    )
    return (
        select(page, *(_L[name].label(f"line_{name}") for name in _LINE))
        .outerjoin(PurchaseLineRow.__table__, _L.purchase_id == page.c.id)  # type: ignore[attr-defined]
        .order_by(page.c.occurred_at.desc(), page.c.id.desc(), _L.line_no)
    )


# Built once with bound parameters: on every view, building and keying these statements cost
# more of the request's CPU than running them.
_PAGE = _page_statement()
_ONE_SALE = _page_statement(one_sale=True)
_AFTER_KEY = _page_statement(after_key=True)
# Read only when a page after a key comes back empty: the end of the list, or a key that is not one
# of the member's purchases (which the caller must hear of, not take for the end).
_KEY_IS_THEIRS = select(_P.id).where(
    _P.member_id == bindparam("member_id"),
    _P.store_id == bindparam("before_store_id"), _P.pos_txn_id == bindparam("before_pos_txn_id"),
)
_RETURNS = (
    select(_R.id, _R.purchase_id, _R.store_id, _R.refund_id, _R.occurred_at, _R.amount, _R.paid,
           *(_RL[name].label(f"line_{name}") for name in _LINE))
    .outerjoin(ReturnLineRow.__table__, _RL.return_id == _R.id)  # type: ignore[attr-defined]
    .where(_R.purchase_id.in_(bindparam("purchase_ids", expanding=True)))
    .order_by(_R.occurred_at, _R.id, _RL.line_no)
)


async def receipts(
    session: AsyncSession, member_id: str, *, limit: int, offset: int, sale: tuple[str, str] | None = None,
    before: tuple[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The member's purchases, newest first (`offset`, `limit`), each with its lines in line order
    and its returns oldest first; with `sale` (store id, transaction id) only that one, if it is
    theirs (a complaint filed in the app names the sale it is about); or with `before` (store id,
    transaction id of one of their purchases) those after it, `offset` counted from there.

    Raises Invalid naming `before_pos_txn_id` when `before` is not one of the member's purchases."""
    params: dict[str, Any] = {"member_id": member_id, "offset": offset, "limit": limit}
    statement = _PAGE
    if sale is not None:
        params["store_id"], params["pos_txn_id"] = sale
        statement = _ONE_SALE
    if before is not None:
        params["before_store_id"], params["before_pos_txn_id"] = before
        statement = _AFTER_KEY
    rows = (await session.exec(statement, params=params)).all()  # type: ignore[call-overload]
    if not rows and before is not None and (await session.exec(_KEY_IS_THEIRS, params=params)).first() is None:  # type: ignore[call-overload]
        raise Invalid("before_pos_txn_id", "not one of this member's purchases (with before_store_id): "
                      "name the last purchase of the previous page, or leave both out for the first page")
    purchases: dict[int, dict[str, Any]] = {}
    for row in rows:
        purchase = purchases.get(row.id)
        if purchase is None:
            purchase = purchases[row.id] = {
                "store_id": row.store_id, "pos_txn_id": row.pos_txn_id, "occurred_at": row.occurred_at,
                "total": row.total, "discount": row.discount, "payment": row.payment, "lines": [], "returns": [],
            }
        if row.line_sku is not None:  # a purchase without lines has one row of NULLs
            purchase["lines"].append(_line(row))
    if purchases:
        await _add_returns(session, purchases)
    return list(purchases.values())


async def _add_returns(session: AsyncSession, purchases: dict[int, dict[str, Any]]) -> None:
    rows = (await session.exec(_RETURNS, params={"purchase_ids": list(purchases)})).all()  # type: ignore[call-overload]
    returns: dict[int, dict[str, Any]] = {}
    for row in rows:
        receipt = returns.get(row.id)
        if receipt is None:
            receipt = returns[row.id] = {
                "store_id": row.store_id, "refund_id": row.refund_id, "occurred_at": row.occurred_at,
                "amount": row.amount, "refunded": row.paid, "lines": [],
            }
            purchases[row.purchase_id]["returns"].append(receipt)
        if row.line_sku is not None:
            receipt["lines"].append(_line(row))


def _line(row: Any) -> dict[str, Any]:
    return {name: getattr(row, f"line_{name}") for name in _LINE}
