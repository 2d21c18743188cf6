"""Rows to API bodies, applying the caller's right to see contact details."""

from members.adapters.tables import MemberRow, PurchaseLineRow, PurchaseRow
from members.api.schemas import Consents, MemberPublic, PurchaseLinePublic, PurchasePublic
from members.domain.privacy import mask_address, mask_phone
from shared.auth import Principal


def member_public(row: MemberRow, principal: Principal) -> MemberPublic:
    clear = principal.sees_contact_details_of(row.id)
    return MemberPublic(
        id=row.id,
        card_no=row.card_no,
        name=row.name,
        phone=row.phone if clear else mask_phone(row.phone),
        phone_masked=not clear,
        community=row.community,
        address=row.address if clear else mask_address(row.address),
        channel=row.channel,
        birthday=row.birthday,
        home_store_id=row.home_store_id,
        consents=Consents(sms=row.consent_sms),
        lifetime_spend=row.lifetime_spend,
        purchase_count=row.purchase_count,
        first_purchase_at=row.first_purchase_at,
        last_purchase_at=row.last_purchase_at,
        created_at=row.created_at,
    )


def purchase_public(row: PurchaseRow, lines: list[PurchaseLineRow]) -> PurchasePublic:
    return PurchasePublic(
        store_id=row.store_id,
        pos_txn_id=row.pos_txn_id,
        occurred_at=row.occurred_at,
        total=row.total,
        payment=row.payment,
        lines=[
            PurchaseLinePublic(
                sku=ln.sku, name=ln.name, category=ln.category, qty=ln.qty, unit_price=ln.unit_price, amount=ln.amount
            )
            for ln in sorted(lines, key=lambda ln: ln.line_no)
        ],
    )
