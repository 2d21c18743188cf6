"""The member's card: whose card a sale's card number is, kept from members' events."""

from typing import cast

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from campaigns.adapters.tables import CustomerRow, MemberCardRow
from shared.consumer import Delivery
from shared.db import insert_many
from shared.events import contracts as c
from shared.unit_of_work import UnitOfWork

MEMBER_CARDS = MemberCardRow.__table__  # type: ignore[attr-defined]


async def member_of_card(session: AsyncSession, card_no: str | None) -> str | None:
    if card_no is None:
        return None
    row = await session.get(MemberCardRow, card_no)
    return row.member_id if row is not None else None


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
    statement, params = insert_many(uow.session, MEMBER_CARDS, [{"card_no": k, "member_id": m} for k, m in cards.items()])
    await uow.session.exec(statement.on_conflict_do_update(
        index_elements=[MEMBER_CARDS.c.card_no], set_={"member_id": statement.excluded.member_id}), params=params)


async def on_member_profile_changed(uow: UnitOfWork, delivery: Delivery) -> None:
    """A card replaced at the desk (lost, or damaged): the member's coupons go with the new card, and
    the old one, retired by members, applies none at the till. Events of before cards were carried
    name none: the card did not change."""
    changed = cast(c.MemberProfileChangedV1, delivery.payload)
    if changed.card_no is None:
        return
    await uow.session.exec(delete(MemberCardRow).where(
        col(MemberCardRow.member_id) == changed.member_id, col(MemberCardRow.card_no) != changed.card_no))
    statement, params = insert_many(uow.session, MEMBER_CARDS, [{"card_no": changed.card_no, "member_id": changed.member_id}])
    await uow.session.exec(statement.on_conflict_do_update(
        index_elements=[MEMBER_CARDS.c.card_no], set_={"member_id": statement.excluded.member_id}), params=params)


async def on_member_erased(uow: UnitOfWork, delivery: Delivery) -> None:
    erased = cast(c.MemberErasedV1, delivery.payload)
    await uow.session.exec(delete(MemberCardRow).where(col(MemberCardRow.member_id) == erased.member_id))
