"""Register, find, read and edit members."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy import func
from sqlmodel import col, select

from members.adapters.tables import CommunityAliasRow, MemberRow
from members.api.access import ensure_visible, member_scope, visible_member
from members.api.deps import AccessLogDep, MembersSettingsDep
from members.api.presenters import present_member, present_members
from members.api.schemas import (
    CardReplacement,
    MemberCreate,
    MemberFound,
    MemberOverview,
    MemberPage,
    MemberPublic,
    MemberUpdate,
    PurchaseWithReturns,
)
from members.config import Settings
from members.domain.communities import community_key
from members.domain.profile import birthday_problem, registration_problem
from members.service_layer.cards import RetiredBecause, replace_card
from members.service_layer.privacy import phone_search_allowed, record_phone_search
from members.service_layer.profile import SELF_SERVICE_FIELDS, update_profile
from members.service_layer.receipts import receipts
from members.service_layer.registration import register_member, register_once
from members.service_layer.sales import holders_of_replaced
from shared.authorize import Allowed
from shared.cards import CardNumber
from shared.deps import ReadUowDep, UowDep
from shared.idempotency import idempotency_key_header
from shared.identifiers import StoreId, TxnId
from shared.integers import Int64
from shared.phones import Phone
from shared.policy import Grant, Scope
from shared.pseudonyms import phone_hmac
from shared.text import NonBlankText
from shared.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1/members", tags=["members"])

IdempotencyKey = Annotated[
    str | None,
    idempotency_key_header("Unique per intended registration; a retry with the same key and body returns the same member"),
]


def _refuse_impossible_birthday(birthday: date | None, uow: UnitOfWork, settings: Settings) -> None:
    # The body's model cannot see the service's clock, so this rule is checked here, answered in the
    # shape and wording body validation gives (the field, and why).
    if birthday is not None and (problem := birthday_problem(birthday, uow.now().astimezone(settings.zone).date())):
        raise RequestValidationError([{
            "type": "value_error", "loc": ("body", "birthday"), "msg": f"Value error, {problem}",
            "input": birthday.isoformat(), "ctx": {"error": problem},
        }])


def _refuse_future_registration(body: MemberCreate, uow: UnitOfWork) -> None:
    if (problem := registration_problem(body.registered_at, uow.now())) is not None:
        raise RequestValidationError([{
            "type": "value_error", "loc": ("body", "registered_at"), "msg": f"Value error, {problem}",
            "input": body.registered_at.isoformat() if body.registered_at else None, "ctx": {"error": problem},
        }])


@router.post(
    "", status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "A retry with the same Idempotency-Key: the member it registered"},
               409: {"description": "Phone or card already registered, or the key was used for another request"}},
)
async def create_member(
    body: MemberCreate, uow: UowDep, grant: Annotated[Grant, Allowed("members.member.register")], settings: MembersSettingsDep,
    response: Response, idempotency_key: IdempotencyKey = None,
) -> MemberPublic:
    _refuse_impossible_birthday(body.birthday, uow, settings)
    if body.registered_at is not None:
        Grant.of(grant.principal, "members.member.register_backdated")
        _refuse_future_registration(body, uow)
    if body.home_store_id is not None:  # left out, it is the caller's store (registration)
        grant.ensure_home_store(body.home_store_id)
    principal = grant.principal
    if idempotency_key is None:
        registered = await register_member(uow, body, settings.resolved_pepper(), principal)
    else:
        registered = await register_once(uow, body, settings.resolved_pepper(), principal, idempotency_key)
        if registered.retry:
            response.status_code = status.HTTP_200_OK
    return await present_member(uow, registered.member, grant, "members.register", consents=registered.consents)


@router.get("")
async def find_members(
    uow: UowDep,
    grant: Annotated[Grant, Allowed("members.member.search")],
    settings: MembersSettingsDep,
    card_no: Annotated[CardNumber | None, Query()] = None,
    phone: Annotated[Phone | None, Query()] = None,
    # A term of spaces says nothing: taken as asked, it would be no filter and list every member.
    community: Annotated[NonBlankText | None, Query(max_length=100, description="Community name or any alias")] = None,
    name: Annotated[NonBlankText | None, Query(max_length=50, description="Part of the name")] = None,
    limit: Annotated[Int64, Query(ge=1, le=200)] = 50,
    offset: Annotated[Int64, Query(ge=0)] = 0,
) -> MemberPage:
    # An erased member's placeholder is nobody: never a hit of any search, nor counted in a list
    # (the community's member_count leaves them out too). Their profile stays readable by id.
    query = select(MemberRow).where(*member_scope(grant), col(MemberRow.erased_at).is_(None))
    replaced = None
    if card_no:
        # A card replaced at the desk is no one's card now, but still finds the member it was taken
        # from (a customer handing over the card they lost and found again), who is told their card
        # now; an erased member's cards lead back to nobody. The caller's scope applies as above.
        held = (await holders_of_replaced(uow.session, [card_no])).get(card_no)
        if held is None:
            query = query.where(MemberRow.card_no == card_no)
        else:
            query, replaced = query.where(MemberRow.id == held[0]), card_no
    if phone:
        # Whoever finds a customer by phone learns whose number it is: only roles that see contact
        # details, within a rate that makes guessing the digits behind a masked number hopeless.
        Grant.of(grant.principal, "members.member.search_by_phone")
        await phone_search_allowed(
            uow.session, grant.principal, settings.phone_search_limit, settings.phone_search_window, now=uow.now()
        )
        # Looked up through the digest index, the same way POS phone sales are matched.
        query = query.where(MemberRow.phone_hmac == phone_hmac(phone, settings.resolved_pepper()))
    if community:
        query = query.where(MemberRow.community_id == select(CommunityAliasRow.community_id).where(
            CommunityAliasRow.alias_key == community_key(community)).scalar_subquery())
    if name:
        query = query.where(col(MemberRow.name).contains(name, autoescape=True))
    total = (await uow.session.exec(select(func.count()).select_from(query.subquery()))).one()
    # Members registered at the same moment (an import, a clock's resolution) need the id as well,
    # or the database may give them in another order on each page and skip or repeat one.
    newest_first = (col(MemberRow.created_at).desc(), col(MemberRow.id).desc())
    rows = (await uow.session.exec(query.order_by(*newest_first).offset(offset).limit(limit))).all()
    items = await present_members(uow, rows, grant, "members.search")
    if phone:
        record_phone_search(uow.session, grant.principal, [row.id for row in rows], now=uow.now())
    return MemberPage(items=[MemberFound(**dict(item), replaced_card=replaced) for item in items], total=total, limit=limit, offset=offset)


@router.get("/{member_id}")
async def get_member(
    member_id: str, uow: ReadUowDep, grant: Annotated[Grant, Allowed("members.member.read")], access_log: AccessLogDep,
) -> MemberPublic:
    member = await visible_member(uow, member_id, grant)
    return await present_member(uow, member, grant, "members.read", access_log=access_log)


# The customer-360 view's part of members: one request, one check of access and one read of the
# profile, where the profile and the purchases asked apart cost members and the gateway twice.
@router.get("/{member_id}/overview", response_model=MemberOverview)
async def member_overview(
    member_id: str, uow: ReadUowDep, grant: Annotated[Grant, Allowed("members.member.read")], access_log: AccessLogDep,
    purchases: Annotated[Int64, Query(ge=1, le=200, description="How many recent purchases to include")] = 10,
) -> dict[str, Any]:
    member = await visible_member(uow, member_id, grant)
    # The purchases first: presenting the profile ends the read (its access-log row is written on
    # a connection of the same pool), and a read after it would take a connection again.
    recent = await receipts(uow.session, member_id, limit=purchases, offset=0)
    return {"member": await present_member(uow, member, grant, "members.read", access_log=access_log), "recent_purchases": recent}


@router.patch("/{member_id}")
async def edit_member(
    member_id: str, body: MemberUpdate, uow: UowDep, grant: Annotated[Grant, Allowed("members.member.update")],
    settings: MembersSettingsDep,
) -> MemberPublic:
    _refuse_impossible_birthday(body.birthday, uow, settings)
    member = await visible_member(uow, member_id, grant)
    if grant.scope is Scope.SELF:
        if refused := sorted(body.model_fields_set - SELF_SERVICE_FIELDS):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"members may not change {', '.join(refused)}; ask the service desk"
            )
    if "home_store_id" in body.model_fields_set:  # null included: it would take the customer out of a store's reach
        grant.ensure_home_store(body.home_store_id)
    member = await update_profile(uow, member, body, settings.resolved_pepper())
    return await present_member(uow, member, grant, "members.update")


@router.post("/{member_id}/card-replacement")
async def replace_members_card(
    member_id: str, body: CardReplacement, uow: UowDep, grant: Annotated[Grant, Allowed("members.card.replace")],
    response: Response,
) -> MemberPublic:
    """A lost or damaged card replaced at the desk: the old number is retired (it matches nobody
    and is never issued again: a sale on it is no longer the member's, its coupons no longer
    apply at the till) and the member's sales, points and coupons follow the new card. 201 with
    the member on their new card; 200 when this replacement was made already."""
    member = await visible_member(uow, member_id, grant)
    member, changed = await replace_card(uow, member, body.replaces, RetiredBecause(body.reason), grant.principal, body.card_no)
    response.status_code = status.HTTP_201_CREATED if changed else status.HTTP_200_OK
    return await present_member(uow, member, grant, "members.card_replacement")


def _sale_named(store_field: str, store_id: str | None, txn_field: str, pos_txn_id: str | None) -> tuple[str, str] | None:
    """A sale named by a pair of query parameters: both or neither (a transaction id is only unique
    within its store); one alone is 422 naming the other."""
    if (store_id is None) != (pos_txn_id is None):
        missing = txn_field if pos_txn_id is None else store_field
        raise RequestValidationError([{"type": "missing", "loc": ("query", missing), "msg": f"Field required: a sale is named by {store_field} and {txn_field} together", "input": None}])
    return (store_id, pos_txn_id) if store_id is not None and pos_txn_id is not None else None


# Built as plain dicts (service_layer.receipts) and validated once, on the way out.
@router.get("/{member_id}/purchases", response_model=list[PurchaseWithReturns])
async def member_purchases(
    member_id: str, uow: ReadUowDep, grant: Annotated[Grant, Allowed("members.member.read")], limit: Annotated[Int64, Query(ge=1, le=200)] = 20,
    # Offset paging stays for callers that page by number (the console); the app pages by keyset below.
    offset: Annotated[Int64, Query(ge=0, le=1_000_000, description=(
        "Purchases to skip, newest first; with before_store_id and before_pos_txn_id, counted from "
        "the purchase they name"))] = 0,
    # One sale, if it is the member's (the app checks the sale a complaint names): both or neither.
    store_id: Annotated[StoreId | None, Query()] = None, pos_txn_id: Annotated[TxnId | None, Query()] = None,
    # Keyset paging for the member app's e-receipts: a position in the list, not a count, so a sale
    # that lands while the member scrolls goes to the top and shows no purchase twice on the next page.
    before_store_id: Annotated[StoreId | None, Query(description=(
        "With before_pos_txn_id (both or neither): list the purchases after this one of the member's, "
        "the last of the previous page, in the list's order (newest first). Not with store_id and pos_txn_id"))] = None,
    before_pos_txn_id: Annotated[TxnId | None, Query(description=(
        "With before_store_id: the transaction of the last purchase of the previous page; 422 if it "
        "is not one of the member's purchases"))] = None,
) -> list[dict[str, Any]]:
    """The member's purchases with their lines and returns, newest first (the same instant: the
    later recorded first). A page follows the previous one by `before_store_id` and
    `before_pos_txn_id` (its last purchase) or by `offset`; `store_id` and `pos_txn_id` ask for one
    sale instead."""
    sale = _sale_named("store_id", store_id, "pos_txn_id", pos_txn_id)
    before = _sale_named("before_store_id", before_store_id, "before_pos_txn_id", before_pos_txn_id)
    if sale is not None and before is not None:
        # One sale is no page: a position after another purchase would say nothing or hide it.
        raise RequestValidationError([
            {"type": "value_error", "loc": ("query", field), "input": value,
             "msg": "Value error, not with store_id and pos_txn_id: one sale is asked for, not a page"}
            for field, value in (("before_store_id", before_store_id), ("before_pos_txn_id", before_pos_txn_id))
        ])
    await ensure_visible(uow, member_id, grant)
    return await receipts(uow.session, member_id, limit=limit, offset=offset, sale=sale, before=before)
