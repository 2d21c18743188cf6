"""A member's card replaced at the desk (reported lost, or damaged), and card numbers retired.

A retired number matches nobody and is never issued again (`retired_card`): the card of a
replacement, and an erased member's card. A sale on it is recorded unattributed and stays so;
issued again, the number would make the next holder heir to whatever the old card still buys
(the audit's case: an erased member's family shopping on the old card, in a stranger's account).

A replacement names the card it replaces, so a form sent twice replaces once: the second finds
that card retired from this member and answers the member as the first left them.
"""

from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from members.adapters.tables import MemberRow
from members.adapters.tables.core import RetiredCardRow
from members.config import settings_of
from members.domain.cards import new_card_no
from members.service_layer.editable import lock_editable
from members.service_layer.identity_lock import lock_for_new_identity
from members.service_layer.profile import announce_profile
from members.service_layer.sales import attribute_waiting_sales
from shared.auth import Principal
from shared.errors import Conflict
from shared.unit_of_work import UnitOfWork
from shared.zones import start_of_day

RETIRED_CARD = ("card_no: this card was retired (reported lost or damaged, or its holder's data erased) "
                "and is never issued again; hand over another card")


class RetiredBecause(StrEnum):
    LOST = "lost"
    DAMAGED = "damaged"
    ERASED = "erased"  # never asked for: erasure retires the card itself


class CardConflict(Conflict):
    """The card to replace is not the member's, or the new one is someone's or retired."""


async def replace_card(
    uow: UnitOfWork, member: MemberRow, replaces: str, reason: RetiredBecause, principal: Principal,
    card_no: str | None = None,
) -> tuple[MemberRow, bool]:
    """The member with their new card (`card_no`, a card handed over at the desk, or a number
    issued now), and whether anything changed (False: this replacement was made already)."""
    session = uow.session
    # The new card becomes the member's identity: no sale is matched meanwhile (identity_lock).
    # Taken before the member's row, in the order a sale takes them, so neither waits on the other.
    await lock_for_new_identity(session)
    await lock_editable(uow, member)  # two desks at once: one replaces, one is told
    if member.card_no != replaces:
        earlier = await session.get(RetiredCardRow, replaces)
        if earlier is not None and earlier.member_id == member.id and card_no in (None, member.card_no):
            return member, False
        raise CardConflict(f"replaces: card {replaces} is not this member's card (theirs is {member.card_no})")
    new = card_no or await _unused_number(uow)
    await ensure_issuable(uow, new)
    session.add(RetiredCardRow(card_no=replaces, member_id=member.id, reason=reason.value, retired_by=principal.subject,
                               retired_at=uow.now()))
    member.card_no = new
    session.add(member)
    try:
        await session.flush()
    except IntegrityError as exc:
        # A desk registering the same card, or replacing another member's with it, at this very
        # moment: both passed `ensure_issuable` before either was written, and the unique index
        # lets one through.
        raise CardConflict(f"card_no {new} was registered to another member at the same moment; hand over another card") from exc
    # A card handed over may have been used at a till before it was this member's.
    await attribute_waiting_sales(uow, member)
    announce_profile(uow, member)
    return member, True


async def ensure_issuable(uow: UnitOfWork, card_no: str) -> None:
    """Refuses a number that is a member's card or was retired."""
    owner = (await uow.session.exec(select(MemberRow.id).where(MemberRow.card_no == card_no))).first()
    if owner is not None:
        raise CardConflict("card_no is already registered to another member")
    if await uow.session.get(RetiredCardRow, card_no) is not None:
        raise CardConflict(RETIRED_CARD)


# Who retires an erased member's card: not the caller, who is the member themself when they erase
# their own data (`privacy_erasure` keeps who asked).
ERASURE = "erasure"


def _day_of(moment: datetime, zone: ZoneInfo) -> datetime:
    """The start of the chain's day `moment` falls on (the day staff would name)."""
    return start_of_day(moment.astimezone(zone).date(), zone)


async def retire_erased(uow: UnitOfWork, member: MemberRow, now: datetime) -> None:
    """An erased member's cards stay retired but lead back to nobody: their card now is retired
    without a member, by `erasure`, and the cards retired from them before (lost, damaged) lose the
    member; each keeps the day alone (an exact time would join it to `privacy_erasure`, or to the
    access log's row of the replacement)."""
    zone = settings_of(uow).zone
    earlier = (await uow.session.exec(select(RetiredCardRow).where(col(RetiredCardRow.member_id) == member.id))).all()
    for row in earlier:  # a card or two, replaced at the desk
        row.member_id, row.retired_at = None, _day_of(row.retired_at, zone)
        uow.session.add(row)
    uow.session.add(RetiredCardRow(card_no=member.card_no, member_id=None, reason=RetiredBecause.ERASED.value,
                                   retired_by=ERASURE, retired_at=_day_of(now, zone)))


async def _unused_number(uow: UnitOfWork) -> str:
    # 10^10 numbers: a clash is all but impossible, and cheap to step over.
    while True:
        card_no = new_card_no()
        if await uow.session.get(RetiredCardRow, card_no) is None and (await uow.session.exec(
                select(MemberRow.id).where(MemberRow.card_no == card_no))).first() is None:
            return card_no
