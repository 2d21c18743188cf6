"""A member's purchases as e-receipts: each purchase with its lines and the returns made of it.

Read with two Core statements (the page of purchases joined to their lines; the returns of those
purchases joined to theirs) into plain dicts shaped as the API's `PurchaseWithReturns`: the
customer-360 view and the app's receipts page read this on every view, where ORM rows, four
queries and a second validation of every purchase cost most of the request's CPU.
"""

from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlmodel.ext.asyncio.session import AsyncSession

from members.adapters.tables import PurchaseLineRow, PurchaseRow, ReturnLineRow, ReturnRow

_P, _L, _R, _RL = PurchaseRow.__table__.c, PurchaseLineRow.__table__.c, ReturnRow.__table__.c, ReturnLineRow.__table__.c  # type: ignore[attr-defined]
_LINE = ("sku", "name", "category", "qty", "unit_price", "amount")


def _page_statement(*, one_sale: bool = False) -> Select[Any]:
    """`one_sale`: only the purchase of `store_id` and `pos_txn_id` (a sale is known by both)."""
    wanted = [_P.member_id == bindparam("member_id")]
    if one_sale:
        wanted += [_P.store_id == bindparam("store_id"), _P.pos_txn_id == bindparam("pos_txn_id")]
    page = (
        select(_P.id, _P.store_id, _P.pos_txn_id, _P.occurred_at, _P.total, _P.discount, _P.payment)
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
_RETURNS = (
    select(_R.id, _R.purchase_id, _R.store_id, _R.refund_id, _R.occurred_at, _R.amount, _R.paid,
           *(_RL[name].label(f"line_{name}") for name in _LINE))
    .outerjoin(ReturnLineRow.__table__, _RL.return_id == _R.id)  # type: ignore[attr-defined]
    .where(_R.purchase_id.in_(bindparam("purchase_ids", expanding=True)))
    .order_by(_R.occurred_at, _R.id, _RL.line_no)
)


async def receipts(
    session: AsyncSession, member_id: str, *, limit: int, offset: int, sale: tuple[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The member's purchases, newest first (`offset`, `limit`), each with its lines in line order
    and its returns oldest first; with `sale` (store id, transaction id) only that one, if it is
    theirs (a complaint filed in the app names the sale it is about)."""
    params: dict[str, Any] = {"member_id": member_id, "offset": offset, "limit": limit}
    if sale is not None:
        params["store_id"], params["pos_txn_id"] = sale
    rows = (await session.exec(_PAGE if sale is None else _ONE_SALE, params=params)).all()  # type: ignore[call-overload]
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
