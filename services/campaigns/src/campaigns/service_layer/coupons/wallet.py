"""The wallet: a member's coupons, as the customer-360 view and the app show them."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam
from sqlalchemy import select as core_select
from sqlmodel.ext.asyncio.session import AsyncSession

from campaigns.adapters.tables import CouponRow, CouponTemplateRow

_C, _T = CouponRow.__table__.c, CouponTemplateRow.__table__.c  # type: ignore[attr-defined]
# Built once, read as plain rows: the customer-360 view and the app read a wallet on every view.
_WALLET = (
    core_select(
        _C.id, _C.code, _C.template_id, _C.campaign_id, _C.state, _C.valid_from, _C.valid_until, _C.issued_at,
        _C.redeemed_at, _C.discount, _T.name, _T.kind, _T.spec,
    )
    .join(CouponTemplateRow.__table__, _T.id == _C.template_id)  # type: ignore[attr-defined]
    .where(_C.member_id == bindparam("member_id"), _C.code.is_not(None))
    .order_by(_C.issued_at.desc(), _C.id)
)


async def wallet(session: AsyncSession, member_id: str) -> Sequence[Row[Any]]:
    """The member's coupons, newest first: what a wallet shows of each, with its template's `name`,
    `kind` and `spec` (`parsed_spec`)."""
    return (await session.exec(_WALLET, params={"member_id": member_id})).all()  # type: ignore[call-overload]
