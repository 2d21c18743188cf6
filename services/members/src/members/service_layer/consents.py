"""Marketing and service consents and the opt-out of personalised offers: an append-only history
whose latest row per purpose is in force.

A withdrawal is one more row, committed with its `ConsentChangedV1` (`PersonalisationChangedV1`
for personalised offers); every check reads the current state from the database (`has_consent`),
so a withdrawal applies to the very next message.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import get_args

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from members.adapters.tables import ConsentRow, MemberRow
from members.domain.consents import PERSONALISED_OFFERS, granted_when_unanswered
from shared.errors import Conflict
from shared.events import contracts as c
from shared.events.registry import CONSENT_CHANGED, CONSENT_CHANGED_V2, PERSONALISATION_CHANGED
from shared.unit_of_work import UnitOfWork


class ConsentConflict(Conflict):
    """The member was erased: their consents can no longer change."""


def _in_order(query: SelectOfScalar[ConsentRow]) -> SelectOfScalar[ConsentRow]:
    # Rows recorded in the same instant are told apart by insertion order.
    return query.order_by(col(ConsentRow.changed_at), col(ConsentRow.id))


# Built once (every profile shown reads it): building and keying it cost more than running it.
_OF_MEMBERS = _in_order(select(ConsentRow).where(col(ConsentRow.member_id).in_(bindparam("member_ids", expanding=True))))


async def consents_in_force(session: AsyncSession, member_ids: Sequence[str]) -> dict[str, dict[str, ConsentRow]]:
    """member id -> purpose -> the row in force; purposes never answered are absent."""
    if not member_ids:
        return {}
    rows = (await session.exec(_OF_MEMBERS, params={"member_ids": list(member_ids)})).all()
    in_force: dict[str, dict[str, ConsentRow]] = {}
    for row in rows:
        in_force.setdefault(row.member_id, {})[row.purpose] = row
    return in_force


async def has_consent(session: AsyncSession, member_id: str, purpose: str) -> bool:
    """Whether the member currently agrees to `purpose`; never answered means no, except for
    personalised offers, which a member gets until they opt out."""
    latest = (await session.exec(
        select(ConsentRow).where(ConsentRow.member_id == member_id, ConsentRow.purpose == purpose)
        .order_by(col(ConsentRow.changed_at).desc(), col(ConsentRow.id).desc()).limit(1)
    )).first()
    return latest.granted if latest is not None else granted_when_unanswered(purpose)


async def consent_history(session: AsyncSession, member_id: str) -> list[ConsentRow]:
    return list((await session.exec(_in_order(select(ConsentRow).where(ConsentRow.member_id == member_id)))).all())


async def change_consent(
    uow: UnitOfWork, member: MemberRow, purpose: str, granted: bool, channel: str, recorded_by: str,
    *, now: datetime | None = None,
) -> ConsentRow | None:
    """Records a grant or withdrawal and announces it; None when that answer is already in force
    (a repeated tap in the app or a retried request changes nothing and announces nothing)."""
    # Read under the member's row lock (PostgreSQL; SQLite runs one writer at a time): of two taps
    # at once the second finds the first's answer in force, and a change racing the member's
    # erasure waits for it and is refused, rather than left in force after it.
    erased_at = (await uow.session.exec(
        select(MemberRow.erased_at).where(col(MemberRow.id) == member.id).with_for_update())).one()
    if erased_at is not None:
        raise ConsentConflict(f"member {member.id} is erased; consents can no longer change")
    current = (await consents_in_force(uow.session, [member.id])).get(member.id, {}).get(purpose)
    if current is not None and current.granted == granted:
        return None
    return record_first_answer(uow, member, purpose, granted, channel, recorded_by, now=now or uow.now())


def record_first_answer(
    uow: UnitOfWork, member: MemberRow, purpose: str, granted: bool, channel: str, recorded_by: str, *, now: datetime,
) -> ConsentRow:
    """Records and announces an answer where none is in force yet, so there is nothing to read
    first; otherwise use `change_consent`."""
    row = announced_answer(uow, member.id, purpose, granted, channel, recorded_by, now=now)
    uow.session.add(row)
    return row


def announced_answer(
    uow: UnitOfWork, member_id: str, purpose: str, granted: bool, channel: str, recorded_by: str, *, now: datetime,
) -> ConsentRow:
    """The history row of an answer, its event queued on the unit; the caller writes the row (a
    registration writes all its answers in one INSERT)."""
    row = ConsentRow(
        member_id=member_id, purpose=purpose, granted=granted, channel=channel, recorded_by=recorded_by, changed_at=now
    )
    if purpose == PERSONALISED_OFFERS:
        uow.emit(
            PERSONALISATION_CHANGED,
            c.PersonalisationChangedV1(member_id=member_id, personalised=granted, channel=channel, changed_at=now),  # type: ignore[arg-type]
            key=member_id,
            subject=member_id,
        )
    elif channel in get_args(c.ConsentChannel):
        uow.emit(
            CONSENT_CHANGED,
            c.ConsentChangedV1(member_id=member_id, purpose=purpose, granted=granted, channel=channel, changed_at=now),  # type: ignore[arg-type]
            key=member_id,
            subject=member_id,
        )
    else:  # a channel v1 cannot name (an SMS reply): the same change as v2
        uow.emit(
            CONSENT_CHANGED_V2,
            c.ConsentChangedV2(member_id=member_id, purpose=purpose, granted=granted, channel=channel, changed_at=now),  # type: ignore[arg-type]
            key=member_id,
            subject=member_id,
        )
    return row
