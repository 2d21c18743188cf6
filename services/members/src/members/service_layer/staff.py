"""Account managers and their customers: who gets which VIP, and what happens when that changes.

`MemberRow.manager_id` holds the assignment (row-level permissions read it). Every change is
announced with `AccountManagerAssignedV1`; the welcome SMS is asked for once per promotion, when
the VIP first gets a manager (at promotion, or later when coverage for their community appears).
A VIP nobody covers stays unassigned (reason `no_manager_for_community`) and shows in the store
manager's list of unassigned VIPs until a manager covers the community or is reactivated.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select

from members.adapters.tables import MemberRow
from members.adapters.tables.staff import CoverageRow, StaffRow, VipWelcomeRow
from members.domain.assignment import Candidate, choose_manager, welcome_owed
from members.domain.tiers import VIP
from members.service_layer.editable import lock_editable
from shared.commands import derived_event_id
from shared.events import contracts as c
from shared.events.registry import ACCOUNT_MANAGER_ASSIGNED, NOTIFICATION_REQUESTED
from shared.unit_of_work import UnitOfWork

ACCOUNT_MANAGER = "account_manager"
STORE_MANAGER = "store_manager"
STAFF_ROLES = ("account_manager", "store_manager", "service_desk")
# Derived event ids: the welcome of one promotion has one id, whoever computes it.


async def candidates(uow: UnitOfWork, community_id: str | None) -> list[Candidate]:
    """Active account managers covering the community, with their current number of customers."""
    if community_id is None:
        return []
    staff = (
        await uow.session.exec(
            select(StaffRow)
            .join(CoverageRow, col(CoverageRow.manager_id) == col(StaffRow.id))
            .where(CoverageRow.community_id == community_id, StaffRow.active, StaffRow.role == ACCOUNT_MANAGER)
        )
    ).all()
    loads = await _loads(uow, [s.id for s in staff])
    return [Candidate(s.id, s.store_id, loads.get(s.id, 0)) for s in staff]


async def _loads(uow: UnitOfWork, manager_ids: Sequence[str]) -> dict[str, int]:
    if not manager_ids:
        return {}
    rows = await uow.session.exec(
        select(MemberRow.manager_id, func.count())
        .where(col(MemberRow.manager_id).in_(manager_ids))
        .group_by(MemberRow.manager_id)
    )
    return {manager_id: n for manager_id, n in rows.all() if manager_id}


async def assign_new_vip(uow: UnitOfWork, member: MemberRow, now: datetime) -> str | None:
    """Gives a newly promoted VIP a manager (keeping an active one they already had) and asks for
    the welcome SMS; without anyone covering the community the VIP waits, unassigned."""
    if member.manager_id is not None:
        current = await uow.session.get(StaffRow, member.manager_id)
        if current is not None and current.active:
            _announce(uow, member, current.id, member.manager_id, "new_vip", now)
            await _welcome(uow, member, current, now)
            return current.id
    return await _assign_from_coverage(uow, member, now, reason="new_vip", exclude=None)


async def _assign_from_coverage(
    uow: UnitOfWork, member: MemberRow, now: datetime, *, reason: str, exclude: str | None,
    pool: list[Candidate] | None = None,
) -> str | None:
    pool = pool if pool is not None else await candidates(uow, member.community_id)
    chosen = choose_manager(pool, member.home_store_id, exclude=exclude)
    previous = member.manager_id
    member.manager_id = chosen
    uow.session.add(member)
    if chosen is None:
        _announce(uow, member, None, previous, "no_manager_for_community" if reason == "new_vip" else reason, now)
        return None
    _bump(pool, chosen)
    _announce(uow, member, chosen, previous, reason, now)
    if reason == "new_vip":
        manager = await uow.session.get(StaffRow, chosen)
        assert manager is not None
        await _welcome(uow, member, manager, now)
    return chosen


def _bump(pool: list[Candidate], chosen: str) -> None:
    """Counts a customer just assigned, so the next choice in the same batch sees the new load."""
    for i, cand in enumerate(pool):
        if cand.manager_id == chosen:
            pool[i] = Candidate(cand.manager_id, cand.store_id, cand.load + 1)


async def assign_waiting_vips(uow: UnitOfWork, community_ids: Sequence[str], now: datetime) -> int:
    """Assigns the unassigned VIPs of these communities (coverage was added or a manager came
    back); each gets the welcome SMS they could not get at promotion."""
    waiting = (
        await uow.session.exec(
            select(MemberRow)
            .where(MemberRow.tier == VIP, col(MemberRow.manager_id).is_(None), col(MemberRow.erased_at).is_(None))
            .where(col(MemberRow.community_id).in_(community_ids))
            .order_by(col(MemberRow.tier_since), col(MemberRow.id))
        )
    ).all()
    pools: dict[str, list[Candidate]] = {}
    assigned = 0
    for member in waiting:
        assert member.community_id is not None
        if member.community_id not in pools:
            pools[member.community_id] = await candidates(uow, member.community_id)
        pool = pools[member.community_id]
        if not pool:
            continue
        # A VIP whose manager left with nobody to take over was welcomed already: they get a
        # manager again, not a second welcome.
        reason = "reassigned" if await _welcomed(uow, member) else "new_vip"
        if await _assign_from_coverage(uow, member, now, reason=reason, exclude=None, pool=pool):
            assigned += 1
    return assigned


async def reassign_customers(
    uow: UnitOfWork, manager_id: str, now: datetime, *, reason: str,
    community_id: str | None = None,
) -> dict[str, int]:
    """Moves a manager's customers (all, or those of one community) to the other managers
    covering their communities; those nobody else covers become unassigned."""
    query = select(MemberRow).where(MemberRow.manager_id == manager_id)
    if community_id is not None:
        query = query.where(MemberRow.community_id == community_id)
    customers = (await uow.session.exec(query.order_by(col(MemberRow.id)))).all()
    pools: dict[str | None, list[Candidate]] = {}
    moved = unassigned = 0
    for member in customers:
        if member.community_id not in pools:
            pools[member.community_id] = await candidates(uow, member.community_id)
        chosen = await _assign_from_coverage(
            uow, member, now, reason=reason, exclude=manager_id, pool=pools[member.community_id]
        )
        if chosen is None:
            unassigned += 1
        else:
            moved += 1
    return {"reassigned": moved, "unassigned": unassigned}


async def reassign_to(uow: UnitOfWork, member: MemberRow, manager: StaffRow, now: datetime) -> None:
    """A manual reassignment by a store manager or admin. A VIP who was waiting unassigned gets
    their first manager this way too, and with it the welcome they could not get at promotion.
    An erased member is refused (ProfileConflict): their record is read-only."""
    await lock_editable(uow, member)
    previous = member.manager_id
    member.manager_id = manager.id
    uow.session.add(member)
    first = member.tier == VIP and previous is None and not await _welcomed(uow, member)
    _announce(uow, member, manager.id, previous, "new_vip" if first else "reassigned", now)
    if first:
        await _welcome(uow, member, manager, now)


def _announce(
    uow: UnitOfWork, member: MemberRow, manager_id: str | None, previous: str | None, reason: str, now: datetime
) -> None:
    uow.emit(
        ACCOUNT_MANAGER_ASSIGNED,
        c.AccountManagerAssignedV1(
            member_id=member.id, manager_id=manager_id, previous_manager_id=previous,
            store_id=member.home_store_id, community_id=member.community_id,
            reason=reason, assigned_at=now,  # type: ignore[arg-type]
        ),
        key=member.id,
        subject=member.id,
    )


async def _welcomed(uow: UnitOfWork, member: MemberRow) -> bool:
    if member.tier_since is None:
        return False
    found = await uow.session.exec(
        select(VipWelcomeRow.id).where(VipWelcomeRow.member_id == member.id, VipWelcomeRow.promoted_at == member.tier_since)
    )
    return found.first() is not None


async def _welcome(uow: UnitOfWork, member: MemberRow, manager: StaffRow, now: datetime) -> None:
    # A service message, not marketing: telling a VIP who their account manager is belongs to the
    # service they now receive, so it does not wait for marketing consent (requires_consent=None).
    # A VIP of the imported history gets a manager but no SMS, whether the manager comes at the
    # import or once someone covers their community.
    # The manager by id only: no names or phones on the bus (docs/events.md). The sender looks
    # their name and work phone up in the staff directory when it takes the request in.
    if not welcome_owed(tier_imported=member.tier_imported, welcomed=await _welcomed(uow, member)):
        return
    promoted_at = member.tier_since or now
    uow.session.add(VipWelcomeRow(member_id=member.id, promoted_at=promoted_at, manager_id=manager.id, requested_at=now))
    event_id = derived_event_id("members", "vip_welcome", member.id, promoted_at.isoformat())
    uow.emit(
        NOTIFICATION_REQUESTED,
        c.NotificationRequestedV1(
            notification_id=event_id, member_id=member.id, template="vip_welcome",
            # The store the customer became a VIP of ("恭喜您成为…的VIP会员") is their own: their
            # manager may work at another store covering their community. A customer with no home
            # store is welcomed in the name of the manager's.
            params={"manager_id": manager.id, "store_id": member.home_store_id or manager.store_id},
            requires_consent=None, requested_at=now,
        ),
        key=member.id,
        subject=member.id,
        event_id=event_id,
    )
