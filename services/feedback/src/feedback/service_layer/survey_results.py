"""Survey results per store and month: response rate, CSAT per dimension, NPS, and the change from
the store's previous month. Counted in the database, so a year of answers is one query."""

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Integer, case, func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from feedback.adapters.tables import SurveyInvitationRow, SurveyResponseRow
from feedback.domain.surveys import DIMENSIONS, change, nps, percent


@dataclass
class MonthResult:
    store_id: str
    month: str
    invitations: int
    responses: int
    response_rate: Decimal | None
    csat: dict[str, Decimal | None]
    csat_overall: Decimal | None
    nps: Decimal | None
    nps_change: Decimal | None = None
    csat_change: Decimal | None = None
    ratings: dict[str, int] = field(default_factory=dict)


def _count(condition) -> object:
    return func.sum(case((condition, 1), else_=0), type_=Integer)


async def results(
    session: AsyncSession, *, store_id: str | None, from_month: str | None, to_month: str | None,
) -> list[MonthResult]:
    inv, resp = SurveyInvitationRow, SurveyResponseRow
    columns = [inv.store_id, inv.month, func.count(inv.id), func.count(resp.id)]
    for dim in DIMENSIONS:
        col = getattr(resp, dim)
        columns += [_count(col >= 4), func.count(col)]
    columns += [_count(resp.nps >= 9), _count(resp.nps <= 6), func.count(resp.nps)]
    query = select(*columns).select_from(inv).outerjoin(resp, resp.invitation_id == inv.id)  # type: ignore[arg-type]
    if store_id:
        query = query.where(inv.store_id == store_id)
    # The month before the range too, so the first month of the range shows its change.
    if from_month:
        query = query.where(inv.month >= _previous(from_month))
    if to_month:
        query = query.where(inv.month <= to_month)
    rows = (await session.exec(query.group_by(inv.store_id, inv.month).order_by(inv.store_id, inv.month))).all()
    out: list[MonthResult] = []
    previous: dict[str, MonthResult] = {}
    for row in rows:
        store, month, invitations, responses, *scores = row
        csat, ratings, satisfied_total, rated_total = {}, {}, 0, 0
        for i, dim in enumerate(DIMENSIONS):
            satisfied, rated = int(scores[2 * i] or 0), int(scores[2 * i + 1] or 0)
            csat[dim], ratings[dim] = percent(satisfied, rated), rated
            satisfied_total, rated_total = satisfied_total + satisfied, rated_total + rated
        promoters, detractors, answered = (int(v or 0) for v in scores[-3:])
        result = MonthResult(
            store_id=store, month=month, invitations=invitations, responses=responses,
            response_rate=percent(responses, invitations), csat=csat, csat_overall=percent(satisfied_total, rated_total),
            nps=nps(promoters, detractors, answered), ratings=ratings,
        )
        before = previous.get(store)
        if before is not None and before.month == _previous(month):
            result.nps_change = change(result.nps, before.nps)
            result.csat_change = change(result.csat_overall, before.csat_overall)
        previous[store] = result
        if not from_month or month >= from_month:
            out.append(result)
    return out


def _previous(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"
