"""The comment book (意见簿): suggestions and praise per store, for the store manager to read,
linkable to a complaint."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlmodel import col, select

from feedback.adapters.tables import CommentEntryRow, ComplaintRow
from feedback.api.access import ensure_customer
from feedback.api.schemas import CommentCreate, CommentLinkIn, CommentPublic
from feedback.service_layer.customers import ensure_complaint_recordable, recordable_member
from shared.authorize import Allowed
from shared.deps import NowDep, UowDep
from shared.errors import Conflict, Invalid, NotFound
from shared.identifiers import StoreId
from shared.integers import Int64
from shared.policy import Grant
from shared.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1/comment-book", tags=["comment book"])

# The desk and the store manager of a store keep its book; admins any (shared.policy.POLICY).
Using = Annotated[Grant, Allowed("feedback.comment_book.use")]


async def _linkable(uow: UnitOfWork, complaint_id: str, store_id: str) -> None:
    complaint = await uow.session.get(ComplaintRow, complaint_id)
    if complaint is None:
        raise NotFound(f"complaint_id: no complaint {complaint_id}")
    if complaint.store_id != store_id:
        raise Conflict(f"complaint_id: complaint {complaint_id} concerns store {complaint.store_id}, not {store_id}")
    # An entry filed under an erased member's complaint is about them: nothing more is recorded
    # about them (409, as for an entry naming them), as the erasure would never empty it.
    await ensure_complaint_recordable(uow.session, complaint)


@router.post("", status_code=status.HTTP_201_CREATED)
async def record_entry(body: CommentCreate, uow: UowDep, grant: Using, now: NowDep) -> CommentPublic:
    """An entry names its customer only if the caller may act for them (any customer for a desk,
    their store's for a store manager: the policy's scope of `feedback.comment_book.use`)."""
    store_id = body.store_id or grant.principal.store_id
    grant.ensure_store(store_id)
    if not store_id:
        raise Invalid("store_id", "required")
    if body.member_id:
        await ensure_customer(uow.session, grant, body.member_id)
        await recordable_member(uow.session, body.member_id)  # the entry's text is about them
    if body.complaint_id:
        await _linkable(uow, body.complaint_id, store_id)
    subject = grant.principal.subject
    row = CommentEntryRow(
        id=str(uuid.uuid4()), store_id=store_id, kind=body.kind, text=body.text, member_id=body.member_id,
        complaint_id=body.complaint_id, recorded_by=subject, recorded_at=now,
        linked_by=subject if body.complaint_id else None, linked_at=now if body.complaint_id else None,
    )
    uow.session.add(row)
    return CommentPublic.model_validate(row, from_attributes=True)


@router.get("")
async def list_entries(
    uow: UowDep, grant: Using, store_id: Annotated[StoreId | None, Query()] = None,
    kind: Annotated[str | None, Query(pattern="^(suggestion|praise)$")] = None,
    limit: Annotated[Int64, Query(ge=1, le=500)] = 100,
) -> list[CommentPublic]:
    """Newest first; store managers and the desk see their own store."""
    store_id = store_id or grant.principal.store_id
    grant.ensure_store(store_id)
    query = select(CommentEntryRow)
    if store_id:
        query = query.where(CommentEntryRow.store_id == store_id)
    if kind:
        query = query.where(CommentEntryRow.kind == kind)
    rows = (await uow.session.exec(query.order_by(col(CommentEntryRow.recorded_at).desc()).limit(limit))).all()
    return [CommentPublic.model_validate(r, from_attributes=True) for r in rows]


@router.post("/{entry_id}/complaint")
async def link_complaint(entry_id: str, body: CommentLinkIn, uow: UowDep, grant: Using, now: NowDep) -> CommentPublic:
    row = await uow.session.get(CommentEntryRow, entry_id)
    if row is None:
        raise NotFound(f"no comment book entry {entry_id}")
    grant.ensure_store(row.store_id)
    await _linkable(uow, body.complaint_id, row.store_id)
    row.complaint_id, row.linked_by, row.linked_at = body.complaint_id, grant.principal.subject, now
    uow.session.add(row)
    return CommentPublic.model_validate(row, from_attributes=True)
