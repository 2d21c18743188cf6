"""Survey results per store and month: response rate, CSAT per dimension, NPS, and the change from
the store's previous month. Counted in the database, so a year of answers is one query."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Integer, case, func
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from feedback.adapters.tables import SurveyInvitationRow, SurveyResponseRow
from feedback.domain.surveys import DIMENSIONS, change, nps, percent
from shared.periods import in_order


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


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0), type_=Integer)


async def results(
    session: AsyncSession, *, store_id: str | None, from_month: str | None, to_month: str | None,
) -> list[MonthResult]:
    # Months as YYYY-MM order as text. A period that ends before it starts holds no month: answered
    # as the mistake it is (as the information base does), not as an empty report.
    in_order(from_month, to_month, first_name="from_month", last_name="to_month")
    inv, resp = SurveyInvitationRow, SurveyResponseRow
    columns: list[SQLCoreOperations[Any]] = [col(inv.store_id), col(inv.month), func.count(col(inv.id)), func.count(col(resp.id))]
    for dim in DIMENSIONS:
        rating = col(getattr(resp, dim))
        columns += [_count(rating >= 4), func.count(rating)]
    columns += [_count(col(resp.nps) >= 9), _count(col(resp.nps) <= 6), func.count(col(resp.nps))]
    # More columns than `select`'s typed overloads take: the statement is built from the list.
    query: Select[*tuple[Any, ...]] = Select(*columns)
    query = query.select_from(inv).outerjoin(resp, col(resp.invitation_id) == col(inv.id))
    if store_id:
        query = query.where(col(inv.store_id) == store_id)
    # The month before the range too, so the first month of the range shows its change.
    if from_month:
        query = query.where(col(inv.month) >= _previous(from_month))
    if to_month:
        query = query.where(col(inv.month) <= to_month)
    grouped = query.group_by(col(inv.store_id), col(inv.month)).order_by(col(inv.store_id), col(inv.month))
    rows = (await session.exec(grouped)).all()
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
