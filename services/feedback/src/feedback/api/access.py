"""Which customers and complaints a caller reaches, decided by the grant of their action.

Who may take which action, over which customers, is `shared.policy.POLICY`; this module only says
how its scopes apply to feedback's rows, so that no route compares roles.

- A request that names a customer (a filing's member, `?member_id=` for the archive and the
  360 view, a comment book entry's member) is checked against the customer's facts:
  `grant.ensure_member`. A member's own requests name themself when they name nobody.
- A complaint is also about a store and a handler, and a desk serves whoever complains at its
  counter, whatever their home store. So a complaint is within reach by its own fields: ALL and
  STORE by the store it was lodged at, within the token's store binding (admins, unbound, reach
  all); ASSIGNED if it is assigned to the account manager (and, to read, if it is about one of
  their customers); SELF if it is the member's own.
- Survey links are the member's own: only a SELF grant covering the member ever sees one.

Refusals raise `AccessDenied` / `NotCustomer`, which every service maps to 403 / 404.
"""

from sqlalchemy import ColumnElement, or_, true
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from feedback.adapters.profiles import member_facts
from feedback.adapters.tables import ComplaintRow, MemberProfileRow, SurveyInvitationRow
from feedback.domain.assignment import desk_queue, store_manager_queue
from shared.policy import AccessDenied, Grant, Scope


def customer_named(grant: Grant, member_id: str | None) -> str | None:
    """The customer a request is about: the one it names, or, for a member, themself. A member
    token that names no member covers nobody, so it is refused rather than read as 'no filter'."""
    if grant.scope is not Scope.SELF:
        return member_id
    own = grant.principal.member_id
    if own is None:
        raise AccessDenied("this member token names no member")
    return member_id or own


async def ensure_customer(session: AsyncSession, grant: Grant, member_id: str) -> None:
    """The caller may act on this customer (403 / 404 otherwise). A scope that covers the customer
    by id alone (every customer, or a member's own) is decided without reading their facts."""
    if grant.covers_id(member_id):
        return
    grant.ensure_member(await member_facts(session, member_id), member_id)


def _own(grant: Grant, member_id: str | None) -> bool:
    # `covers_id` alone would match an anonymous row (None) to a token without a member.
    return member_id is not None and grant.scope is Scope.SELF and grant.covers_id(member_id)


def ensure_handles(grant: Grant, row: ComplaintRow) -> None:
    """The complaint is the caller's to work on: their store's, assigned to them, or their own."""
    match grant.scope:
        case Scope.SELF:
            if not _own(grant, row.member_id):
                raise AccessDenied(f"complaint {row.id} is not yours")
        case Scope.ASSIGNED:
            if row.assignee != grant.principal.subject:
                raise AccessDenied(f"complaint {row.id} is not assigned to you")
        case Scope.ALL | Scope.STORE:
            grant.ensure_store(row.store_id)


async def ensure_reads(session: AsyncSession, grant: Grant, row: ComplaintRow) -> None:
    """As `ensure_handles`, and an account manager also reads the complaints of their customers."""
    if grant.scope is Scope.ASSIGNED and row.member_id is not None and row.assignee != grant.principal.subject:
        facts = await member_facts(session, row.member_id)
        if facts is not None and grant.covers(facts):
            return
    ensure_handles(grant, row)


def complaints_in_reach(grant: Grant, store_id: str | None, assignee: str | None) -> list[ColumnElement[bool]]:
    """Conditions of a complaint list that names no customer; the query must outer-join
    `MemberProfileRow` on the complaint's member. `store_id` / `assignee` are the filters asked for."""
    p = grant.principal
    match grant.scope:
        case Scope.ALL | Scope.STORE:
            store = store_id or p.store_id
            try:
                grant.ensure_store(store)
            except AccessDenied as exc:
                raise AccessDenied(f"store_id: {exc}") from exc
            return [col(ComplaintRow.store_id) == store] if store else []
        case Scope.ASSIGNED:
            if assignee not in (None, p.subject):
                raise AccessDenied("assignee: account managers list their own complaints")
            grant.store_filter(store_id)  # one given a store names no other, as in every service
            customers = grant.where(ComplaintRow.member_id, MemberProfileRow.home_store_id, MemberProfileRow.manager_id)
            return [or_(col(ComplaintRow.assignee) == p.subject, *customers)]
        case Scope.SELF:
            return grant.where(ComplaintRow.member_id, MemberProfileRow.home_store_id, MemberProfileRow.manager_id)


def queue_of(grant: Grant) -> ColumnElement[bool]:
    """The caller's queue. A store's desk and its manager share the store's queue (both handle
    the store's complaints): what waits at the desk, what was handed to the store manager and
    what was escalated to them. An account manager's queue is what is assigned to them; the
    queue of someone who handles every store's complaints (head office) is all of them."""
    p = grant.principal
    match grant.scope:
        case Scope.ALL:
            return true()
        case Scope.STORE:
            store = p.store_id
            grant.ensure_store(store)  # refuses a store-scoped token that names no store
            assert store is not None  # (ensure_store refused it otherwise)
            return or_(
                col(ComplaintRow.assignee).in_([desk_queue(store), store_manager_queue(store), p.subject]),
                col(ComplaintRow.escalated_to) == store_manager_queue(store),
            )
        case Scope.ASSIGNED:
            return col(ComplaintRow.assignee) == p.subject
        case _:
            raise AccessDenied(f"a {p.role} has no queue of complaints to handle")


def sees_survey_link(grant: Grant, member_id: str | None) -> bool:
    """A survey link answers for its member; staff see that one was sent, never the link."""
    return _own(grant, member_id)


def ensure_own_invitation(grant: Grant, row: SurveyInvitationRow) -> None:
    if not _own(grant, row.member_id):
        raise AccessDenied("this survey invitation belongs to another member")
