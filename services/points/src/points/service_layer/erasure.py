"""Erasure: members erased a customer's personal data; points removes what it holds of it.

The ledger stays (an accounting record: amounts, balances, sources), but text a person wrote about
the customer does not: the reasons of entries a staff member caused (an adjustment's "called Mr
Wang at 138...", a cancellation's note) and the gift register's cancellation notes become a fixed
placeholder. The points card number goes too, so a till swiping the card is answered as for an
unknown card. Entries booked by the system (sales, returns, expiry) carry no personal text.

The scrub runs once, when the event arrives; whatever staff recorded after it would stay. So
from then on nothing new is recorded about the member by hand (`ensure_not_erased`: manual
entries, bulk bonuses, redemptions, hand-overs, entitlement uses). The gifts the member had reserved
are cancelled with the erasure, before the scrub (`redemptions.on_member_erased`): their units go
back to the store, their points to the account, and the placeholder stands for the note. Events
keep being booked (a late sale's points, a return): they carry no personal text, and the ledger
must stay the sum of what happened.
"""


from typing import cast

from sqlalchemy import update
from sqlmodel.ext.asyncio.session import AsyncSession

from points.adapters.repository import ACCOUNTS, LEDGER
from points.adapters.tables import RedemptionRow, table_of
from points.domain.exceptions import MemberErased
from shared.consumer import Delivery
from shared.events import contracts as c
from shared.member_directory import erased_among
from shared.unit_of_work import UnitOfWork

REDACTED = "（已注销）"
# The staff id points records on a reserved gift the erasure cancelled: no person's.
ERASURE_STAFF_ID = "member-erasure"

REDEMPTIONS = table_of(RedemptionRow)


async def on_member_erased(uow: UnitOfWork, delivery: Delivery) -> None:
    erased = cast(c.MemberErasedV1, delivery.payload)  # the registry maps the event type to this model
    member_id, session = erased.member_id, uow.session
    # Idempotent: a redelivered erasure writes the same placeholder again.
    await session.exec(
        update(LEDGER).where(LEDGER.c.member_id == member_id, LEDGER.c.staff_id.is_not(None)).values(reason=REDACTED)
    )
    await session.exec(
        update(REDEMPTIONS)
        .where(REDEMPTIONS.c.member_id == member_id, REDEMPTIONS.c.cancel_reason.is_not(None))
        .values(cancel_reason=REDACTED)
    )
    await session.exec(
        update(ACCOUNTS).where(ACCOUNTS.c.member_id == member_id).values(card_no=None, updated_at=uow.now())
    )


async def ensure_not_erased(session: AsyncSession, member_id: str) -> None:
    """MemberErased (409) for a member whose erasure points has recorded."""
    if await erased_among(session, [member_id]):
        raise MemberErased(f"member is erased ({member_id}): nothing more is recorded about them")
