"""The member's card: whose card a sale's card number is, kept from members' events; and the member a
till names by id instead (the gateway found them by the phone the customer gave without their card)."""

from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from sqlalchemy import delete, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from campaigns.adapters.tables import CustomerRow, MemberCardRow
from shared.consumer import Delivery
from shared.db import insert_many
from shared.events import contracts as c
from shared.member_directory import erased_among, member_facts
from shared.unit_of_work import UnitOfWork

MEMBER_CARDS = MemberCardRow.__table__  # type: ignore[attr-defined]


class Card(StrEnum):
    """What a card number the till sent is here. Nothing else about it: a retired card names
    neither its member nor their new card, and an erased member's cards are all unknown."""

    NONE = "none"  # the till sent no card
    KNOWN = "known"
    RETIRED = "retired"  # replaced at the desk (lost or damaged)
    UNKNOWN = "unknown"  # never registered, an erased member's, or not announced by members yet


@dataclass(frozen=True)
class Holder:
    """The member a till's card leads to (None but for a known card), and what the card is."""

    member_id: str | None
    card: Card


async def holder_of_card(session: AsyncSession, card_no: str | None) -> Holder:
    if card_no is None:
        return Holder(None, Card.NONE)
    row = await session.get(MemberCardRow, card_no)
    if row is None:
        return Holder(None, Card.UNKNOWN)
    return Holder(None, Card.RETIRED) if row.retired else Holder(row.member_id, Card.KNOWN)


async def holder_of(session: AsyncSession, card_no: str | None, member_id: str | None) -> Holder:
    """The member a till's customer leads to: by the card shown, or by `member_id`, which the
    gateway sends for a customer who gave their phone (`coupon_schemas.TillMember`: never both). A
    member id campaigns has not been told of, or an erased member's, leads to nobody as no card
    does (`Card.NONE`: "present the member card"): no card was shown, so none can be unknown."""
    if member_id is None:
        return await holder_of_card(session, card_no)
    facts = await member_facts(session, member_id)
    if facts is None or facts.erased_at is not None:
        return Holder(None, Card.NONE)
    return Holder(member_id, Card.KNOWN)


async def channel_of(session: AsyncSession, member_id: str | None, given: str) -> str:
    """The channel a basket is judged in (a coupon limited to `partner` customers, those the
    decoration company referred): the card holder's own, as members keeps it (points prices their
    gifts by it too); a till knows only the card, and a sale carries no channel at all. Without a
    known card (or before members told us the channel), what the till said."""
    if member_id is None:
        return given
    row = await session.get(CustomerRow, member_id)
    return row.channel if row is not None and row.channel else given


async def on_member_registered(uow: UnitOfWork, delivery: Delivery) -> None:
    await on_members_registered(uow, [delivery])


async def on_members_registered(uow: UnitOfWork, deliveries: list[Delivery]) -> None:
    """The cards of new members, in one upsert: a card given to another member since is theirs."""
    cards: dict[str, str] = {}
    for delivery in deliveries:
        member = cast(c.MemberRegisteredV1, delivery.payload)
        cards[member.card_no] = member.member_id  # a card twice in the run: the later wins
    if not cards:
        return
    await _live(uow, cards)


async def _live(uow: UnitOfWork, cards: dict[str, str]) -> None:
    """Each card leads to its member (a registration's or a replacement's card is in use), but for
    an erased member's: a late or replayed event does not bring back a card the erasure removed."""
    erased = await erased_among(uow.session, set(cards.values()))
    rows = [{"card_no": k, "member_id": m, "retired": False} for k, m in cards.items() if m not in erased]
    if not rows:
        return
    statement, params = insert_many(uow.session, MEMBER_CARDS, rows)
    await uow.session.exec(statement.on_conflict_do_update(
        index_elements=[MEMBER_CARDS.c.card_no],
        set_={"member_id": statement.excluded.member_id, "retired": statement.excluded.retired}), params=params)


async def on_member_profile_changed(uow: UnitOfWork, delivery: Delivery) -> None:
    """A card replaced at the desk (lost, or damaged): the member's coupons go with the new card, and
    the old one, retired by members, applies none at the till; it is kept as retired, so the till
    can tell the cashier to ask for the new card. Events of before cards were carried name none:
    the card did not change."""
    changed = cast(c.MemberProfileChangedV1, delivery.payload)
    if changed.card_no is None:
        return
    await uow.session.exec(update(MemberCardRow).where(
        col(MemberCardRow.member_id) == changed.member_id, col(MemberCardRow.card_no) != changed.card_no,
    ).values(retired=True))
    await _live(uow, {changed.card_no: changed.member_id})


async def on_member_erased(uow: UnitOfWork, delivery: Delivery) -> None:
    erased = cast(c.MemberErasedV1, delivery.payload)
    # Retired cards too: an erased member's old card is unknown, never "replaced by a new one".
    await uow.session.exec(delete(MemberCardRow).where(col(MemberCardRow.member_id) == erased.member_id))
