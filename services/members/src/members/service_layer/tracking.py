"""Account managers' tracking work: the queue of VIPs to follow, the daily feedback form, and the
daily report to the store manager.

The queue lists a manager's VIP customers most recent purchase first (the regulation's order),
with days since the last purchase counted in the chain's calendar days and the churn risk the
value analytics job stored for each member (`member_value.churn_risk`; "unknown" before the
first run), so staff see the same risk everywhere. Beside the order, it says who needs a call now:
the follow-up the manager's latest contact planned, due from its day until a contact plans
another (or none), and a birthday within the days `birthday_upcoming` announces ahead.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func
from sqlmodel import col, select

from members.adapters.tables import CommunityRow, MemberRow
from members.adapters.tables.analytics import MemberValueRow
from members.adapters.tables.staff import StaffRow, TrackingRecordRow
from members.domain.birthdays import days_to_birthday
from members.domain.tiers import VIP
from members.service_layer.registration import IdempotencyConflict
from shared.unit_of_work import UnitOfWork

# What a tracking line says, as the form sends it: tracked on, customer, contact, method, rating,
# notes, next follow-up.
TrackingLine = tuple[date, str, str, str, int, str, date | None]


@dataclass(frozen=True)
class QueueEntry:
    member: MemberRow
    days_since_last_purchase: int | None
    churn_risk: str
    last_tracked_on: date | None
    next_follow_up_on: date | None
    follow_up_due: bool
    birthday_in_days: int | None


def days_between(last: datetime | None, now: datetime, zone: ZoneInfo) -> int | None:
    """Whole local calendar days from the last purchase to now (0 = bought today)."""
    if last is None:
        return None
    return max((now.astimezone(zone).date() - last.astimezone(zone).date()).days, 0)


async def queue(
    uow: UnitOfWork, manager_id: str, now: datetime, zone: ZoneInfo, birthday_days: int,
    scope: Sequence[ColumnElement[bool]] = (),
) -> list[QueueEntry]:
    """The manager's VIPs, most recent purchase first, among the customers `scope` admits, each
    with the manager's latest contact (its day and the follow-up it planned) and a birthday within
    `birthday_days` local days."""
    # The latest contact is the latest day's, of that day the last recorded: a contact recorded
    # late for an earlier day does not replace the plan of a later one.
    latest = (
        select(
            col(TrackingRecordRow.member_id).label("member_id"),
            col(TrackingRecordRow.tracked_on).label("tracked_on"),
            col(TrackingRecordRow.next_follow_up_on).label("next_follow_up_on"),
            func.row_number().over(
                partition_by=col(TrackingRecordRow.member_id),
                order_by=(col(TrackingRecordRow.tracked_on).desc(), col(TrackingRecordRow.recorded_at).desc(),
                          col(TrackingRecordRow.id).desc()),
            ).label("nth"),
        )
        .where(TrackingRecordRow.manager_id == manager_id)
        .subquery()
    )
    rows = (
        await uow.session.exec(
            select(MemberRow, MemberValueRow.churn_risk, latest.c.tracked_on, latest.c.next_follow_up_on)
            .outerjoin(MemberValueRow, col(MemberValueRow.member_id) == col(MemberRow.id))
            .outerjoin(latest, and_(latest.c.member_id == col(MemberRow.id), latest.c.nth == 1))
            .where(MemberRow.manager_id == manager_id, MemberRow.tier == VIP, col(MemberRow.erased_at).is_(None), *scope)
            .order_by(col(MemberRow.last_purchase_at).desc().nulls_last(), col(MemberRow.id))
        )
    ).all()
    today = now.astimezone(zone).date()
    entries = []
    for member, risk, tracked, follow_up in rows:
        to_birthday = days_to_birthday(member.birthday, today) if member.birthday else None
        entries.append(QueueEntry(
            member, days_between(member.last_purchase_at, now, zone), risk or "unknown", tracked, follow_up,
            follow_up is not None and follow_up <= today,
            to_birthday if to_birthday is not None and to_birthday <= birthday_days else None,
        ))
    return entries


async def unassigned_vips(uow: UnitOfWork, store_id: str | None) -> list[MemberRow]:
    query = select(MemberRow).where(
        MemberRow.tier == VIP, col(MemberRow.manager_id).is_(None), col(MemberRow.erased_at).is_(None)
    )
    if store_id is not None:
        query = query.where(MemberRow.home_store_id == store_id)
    return list((await uow.session.exec(query.order_by(col(MemberRow.tier_since), col(MemberRow.id)))).all())


@dataclass(frozen=True)
class ReportLine:
    record: TrackingRecordRow
    manager_name: str
    customer_name: str
    card_no: str
    community: str


async def daily_records(
    uow: UnitOfWork, day: date, store_id: str | None, manager_id: str | None,
    scope: Sequence[ColumnElement[bool]] = (),
) -> list[ReportLine]:
    """The day's records of a store or a manager, of the customers `scope` admits: a store's
    managers may track customers of other stores, whom its store manager does not see."""
    query = (
        select(TrackingRecordRow, StaffRow.name, MemberRow.name, MemberRow.card_no, CommunityRow.name, MemberRow.community)  # type: ignore[call-overload]  # sqlmodel's select is typed for at most four columns
        .join(MemberRow, col(MemberRow.id) == col(TrackingRecordRow.member_id))
        .outerjoin(StaffRow, col(StaffRow.id) == col(TrackingRecordRow.manager_id))
        .outerjoin(CommunityRow, col(CommunityRow.id) == col(TrackingRecordRow.community_id))
        .where(TrackingRecordRow.tracked_on == day, *scope)
    )
    if store_id is not None:
        query = query.where(TrackingRecordRow.store_id == store_id)
    if manager_id is not None:
        query = query.where(TrackingRecordRow.manager_id == manager_id)
    rows = (await uow.session.exec(
        query.order_by(col(TrackingRecordRow.manager_id), col(TrackingRecordRow.recorded_at), col(TrackingRecordRow.id))
    )).all()
    return [
        ReportLine(record, manager_name or record.manager_id, customer, card_no, community or said)
        for record, manager_name, customer, card_no, community, said in rows
    ]


async def member_records(uow: UnitOfWork, member_id: str, limit: int) -> list[TrackingRecordRow]:
    """The customer's latest `limit` contacts, by any manager, most recent first (the archive's order)."""
    return list((await uow.session.exec(
        select(TrackingRecordRow).where(TrackingRecordRow.member_id == member_id)
        .order_by(col(TrackingRecordRow.tracked_on).desc(), col(TrackingRecordRow.id).desc()).limit(limit)
    )).all())


async def recorded_under(uow: UnitOfWork, manager_id: str, idempotency_key: str, line: TrackingLine) -> TrackingRecordRow | None:
    """The line the manager recorded under this Idempotency-Key, if any: a retry of `line`. The key
    sent with another line (another customer, another rating) is refused: answered the first line,
    the second would read as saved and be lost."""
    earlier = (await uow.session.exec(select(TrackingRecordRow).where(
        TrackingRecordRow.manager_id == manager_id, TrackingRecordRow.idempotency_key == idempotency_key))).first()
    if earlier is not None and (earlier.tracked_on, earlier.member_id, earlier.contact, earlier.method, earlier.rating,
                                earlier.notes, earlier.next_follow_up_on) != line:
        raise IdempotencyConflict(f"Idempotency-Key {idempotency_key} was already used for another tracking record")
    return earlier
