"""Rows to API bodies, applying the caller's right to see contact details.

Every route returning members goes through `present_member(s)`: it masks phone, address and e-mail
for roles that do not need them (marketing never sees them) and writes an access-log row, in the
request's transaction, for each member whose contact details leave in clear.
"""

from collections.abc import Sequence

from members.adapters.tables import ConsentRow, MemberRow, PurchaseLineRow, PurchaseRow
from members.api.schemas import ConsentsInForce, ConsentState, MemberPublic, PurchaseLinePublic, PurchasePublic
from members.domain.privacy import mask_address, mask_email, mask_phone, present_contact_fields
from members.service_layer.consents import consents_in_force
from members.service_layer.privacy import record_personal_data_read
from shared.policy import Grant
from shared.unit_of_work import UnitOfWork


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
    uow: UnitOfWork, rows: Sequence[MemberRow], grant: Grant, purpose: str
) -> list[MemberPublic]:
    """Bodies for `rows` with the consents in force; logs every member shown with clear contact data."""
    in_force = await consents_in_force(uow.session, [r.id for r in rows])
    bodies = []
    for row in rows:
        bodies.append(member_public(row, grant, consents_public(in_force.get(row.id, {}))))
        record_personal_data_read(uow.session, grant.principal, row.id, clear_fields(row, grant), purpose)
    return bodies


async def present_member(uow: UnitOfWork, row: MemberRow, grant: Grant, purpose: str) -> MemberPublic:
    [body] = await present_members(uow, [row], grant, purpose)
    return body


def purchase_public(row: PurchaseRow, lines: list[PurchaseLineRow]) -> PurchasePublic:
    return PurchasePublic(
        store_id=row.store_id,
        pos_txn_id=row.pos_txn_id,
        occurred_at=row.occurred_at,
        total=row.total,
        discount=row.discount,
        payment=row.payment,
        lines=[
            PurchaseLinePublic(
                sku=ln.sku, name=ln.name, category=ln.category, qty=ln.qty, unit_price=ln.unit_price, amount=ln.amount
            )
            for ln in sorted(lines, key=lambda ln: ln.line_no)
        ],
    )
