"""Rows to API bodies, applying the caller's right to see contact details.

Every route returning members goes through `present_member(s)`: it masks phone, address and e-mail
for roles that do not need them (marketing never sees them) and writes an access-log row for each
member whose contact details leave in clear: in the request's transaction, or through the shared
access-log writer for read-only requests (`service_layer.privacy`), before the body is returned.
"""

from collections.abc import Sequence
from dataclasses import asdict

from members.adapters.tables import ConsentRow, MemberRow, PurchaseLineRow, PurchaseRow, ReturnLineRow
from members.adapters.tables.analytics import MemberComplaintRow
from members.adapters.tables.privacy import AccessLogRow
from members.adapters.tables.staff import TrackingRecordRow
from members.api.analytics_schemas import ComplaintSummary, MemberValue
from members.api.privacy_schemas import (
    AccessLogEntry,
    ComplaintRecord,
    ConsentRecord,
    EvaluationSummary,
    ManagerRef,
    MemberArchive,
    MemberExport,
    ReturnPublic,
    SpendSummary,
    TrackingContact,
)
from members.api.schemas import ConsentsInForce, ConsentState, MemberPublic, PurchaseLinePublic, PurchasePublic
from members.domain.privacy import mask_address, mask_email, mask_phone, present_contact_fields
from members.service_layer.archive import Archive
from members.service_layer.consents import consents_in_force
from members.service_layer.export import MemberData
from members.service_layer.privacy import AccessLogWriter, access_row
from shared.policy import Grant
from shared.unit_of_work import ReadOnlyViolation, UnitOfWork

ACCESS_LOG = AccessLogRow.__table__  # type: ignore[attr-defined]


def consents_public(in_force: dict[str, ConsentRow]) -> ConsentsInForce:
    return ConsentsInForce(**{
        purpose: ConsentState(granted=row.granted, at=row.changed_at, channel=row.channel)
        for purpose, row in in_force.items() if purpose in ConsentsInForce.model_fields
    })


def clear_fields(row: MemberRow, grant: Grant) -> list[str]:
    """The contact fields this caller gets in clear (what the access log must record)."""
    if not grant.sees_contact_details(row.id):
        return []
    return present_contact_fields(row.phone, row.address, row.email)


def member_public(row: MemberRow, grant: Grant, consents: ConsentsInForce) -> MemberPublic:
    """The body alone; callers that return it use `present_member(s)`, which also logs the read."""
    clear = grant.sees_contact_details(row.id)
    return MemberPublic(
        id=row.id,
        card_no=row.card_no,
        name=row.name,
        phone=row.phone if clear else mask_phone(row.phone),
        phone_masked=not clear,
        email=row.email if clear else mask_email(row.email),
        gender=row.gender,
        community=row.community,
        community_id=row.community_id,
        address=row.address if clear else mask_address(row.address),
        channel=row.channel,
        birthday=row.birthday,
        home_store_id=row.home_store_id,
        tier=row.tier,
        manager_id=row.manager_id,
        consents=consents,
        erased=row.erased_at is not None,
        erased_at=row.erased_at,
        lifetime_spend=row.lifetime_spend,
        purchase_count=row.purchase_count,
        first_purchase_at=row.first_purchase_at,
        last_purchase_at=row.last_purchase_at,
        created_at=row.created_at,
    )


async def present_members(
    uow: UnitOfWork, rows: Sequence[MemberRow], grant: Grant, purpose: str, *, access_log: AccessLogWriter | None = None,
    consents: dict[str, dict[str, ConsentRow]] | None = None,
) -> list[MemberPublic]:
    """Bodies for `rows` with the consents in force (read, unless the caller knows them: member id
    -> purpose -> row in force); logs every member shown with clear contact data: in the unit's
    transaction, or, for a read-only unit, through `access_log`, returning only once the rows are
    committed."""
    in_force = consents if consents is not None else await consents_in_force(uow.session, [r.id for r in rows])
    bodies, logged = [], []
    for row in rows:
        bodies.append(member_public(row, grant, consents_public(in_force.get(row.id, {}))))
        if fields := clear_fields(row, grant):
            logged.append(access_row(grant.principal, row.id, fields, purpose, now=uow.now()))
    if not uow.read_only:
        if logged:  # one Core INSERT: the ORM's unit of work cost more than the rows
            await uow.session.exec(ACCESS_LOG.insert(), params=logged)
    elif logged:
        if access_log is None:
            raise ReadOnlyViolation("a read-only unit logs contact data read in clear through the access-log writer")
        await uow.end_read()  # the writer needs a connection of the pool this read holds
        await access_log.record(logged)
    return bodies


async def present_member(
    uow: UnitOfWork, row: MemberRow, grant: Grant, purpose: str, *, access_log: AccessLogWriter | None = None,
    consents: dict[str, ConsentRow] | None = None,
) -> MemberPublic:
    """`consents`: the member's consents in force when the caller knows them (a registration)."""
    known = {row.id: consents} if consents is not None else None
    [body] = await present_members(uow, [row], grant, purpose, access_log=access_log, consents=known)
    return body


def line_public(ln: PurchaseLineRow | ReturnLineRow) -> PurchaseLinePublic:
    return PurchaseLinePublic(sku=ln.sku, name=ln.name, category=ln.category, qty=ln.qty, unit_price=ln.unit_price, amount=ln.amount)


def purchase_public(row: PurchaseRow, lines: list[PurchaseLineRow]) -> PurchasePublic:
    return PurchasePublic(
        store_id=row.store_id,
        pos_txn_id=row.pos_txn_id,
        occurred_at=row.occurred_at,
        total=row.total,
        discount=row.discount,
        payment=row.payment,
        lines=[line_public(ln) for ln in sorted(lines, key=lambda ln: ln.line_no)],
    )


def access_entry(row: AccessLogRow) -> AccessLogEntry:
    assert row.id is not None, "access log rows are read back after they were written"
    return AccessLogEntry(
        id=row.id, actor=row.actor, role=row.role, member_id=row.member_id,
        fields=row.fields.split(",") if row.fields else [], purpose=row.purpose, at=row.at,
    )


def tracking_contact(row: TrackingRecordRow) -> TrackingContact:
    return TrackingContact(
        tracked_on=row.tracked_on, manager_id=row.manager_id, store_id=row.store_id, contact=row.contact,
        method=row.method, rating=row.rating, notes=row.notes, next_follow_up_on=row.next_follow_up_on,
        recorded_at=row.recorded_at,
    )


def complaint_record(row: MemberComplaintRow) -> ComplaintRecord:
    return ComplaintRecord(
        complaint_id=row.complaint_id, store_id=row.store_id, category=row.category, severity=row.severity,
        channel=row.channel, filed_at=row.filed_at, resolved_at=row.resolved_at,
    )


def consent_record(row: ConsentRow) -> ConsentRecord:
    return ConsentRecord(
        purpose=row.purpose, granted=row.granted, channel=row.channel, recorded_by=row.recorded_by, changed_at=row.changed_at
    )


async def present_export(uow: UnitOfWork, data: MemberData, grant: Grant) -> MemberExport:
    """The export document; its profile is a read like any other, logged under members.export."""
    return MemberExport(
        exported_at=data.exported_at,
        profile=await present_member(uow, data.member, grant, "members.export"),
        consents=[consent_record(r) for r in data.consents],
        purchases=[purchase_public(p, lines) for p, lines in data.purchases],
        returns=[
            ReturnPublic(
                store_id=r.store_id, refund_id=r.refund_id, pos_txn_id=r.pos_txn_id, occurred_at=r.occurred_at, amount=r.amount,
                lines=[line_public(ln) for ln in lines],
            )
            for r, lines in data.returns
        ],
        tracking_contacts=[tracking_contact(t) for t in data.tracking],
        complaints=[complaint_record(c) for c in data.complaints],
        access_log=[access_entry(a) for a in data.access],
        value=MemberValue.model_validate(data.value, from_attributes=True) if data.value else None,
    )


async def present_archive(uow: UnitOfWork, archive: Archive, grant: Grant) -> MemberArchive:
    member = archive.member
    return MemberArchive(
        generated_at=archive.generated_at,
        profile=await present_member(uow, member, grant, "members.archive"),
        community_name=archive.community_name,
        tier=member.tier,
        tier_since=member.tier_since,
        manager=ManagerRef(**asdict(archive.manager)) if archive.manager else None,
        spend=SpendSummary(**asdict(archive.spend)),
        value=MemberValue.model_validate(archive.value, from_attributes=True) if archive.value else None,
        complaints=ComplaintSummary.model_validate(archive.complaints),
        evaluation=EvaluationSummary(**asdict(archive.evaluation)),
        tracking_contacts=[tracking_contact(t) for t in archive.tracking],
        recent_purchases=[purchase_public(p, lines) for p, lines in archive.recent_purchases],
    )
