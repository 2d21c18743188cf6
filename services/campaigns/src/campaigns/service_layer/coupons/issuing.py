"""Issuing a template's coupons to members, one each, within the template's `issued` cap; and
withdrawing the unused ones of a member whose data was erased."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from campaigns.adapters.tables import CampaignMemberRow, CampaignRow, CouponCounterRow, CouponRow, CustomerRow
from campaigns.domain.campaigns import State as CampaignState
from campaigns.domain.campaigns import over
from campaigns.domain.codes import Draw, new_member_codes
from campaigns.domain.coupons import State
from campaigns.service_layer.coupons.counters import Take, campaign_key, ensure_counter
from campaigns.service_layer.coupons.templates import get_template, spec_of
from shared.commands import derived_event_id
from shared.consumer import Delivery
from shared.db import insert_or_skip, one_of
from shared.errors import Conflict, Invalid
from shared.events import contracts as c
from shared.events.registry import COUPON_ISSUED
from shared.unit_of_work import UnitOfWork

SERVICE = "campaigns"
COUPON = CouponRow.__table__  # type: ignore[attr-defined]
CUSTOMER = CustomerRow.__table__  # type: ignore[attr-defined]
CAMPAIGN_MEMBER = CampaignMemberRow.__table__  # type: ignore[attr-defined]
LOOKUP_CHUNK = 1000


@dataclass
class Issued:
    requested: int = 0
    issued: int = 0
    already_held: int = 0
    over_budget: int = 0
    coupon_ids: list[str] = field(default_factory=list)
    coupon_of: dict[str, str] = field(default_factory=dict)  # member id -> the coupon issued to them now


async def _holders(session: AsyncSession, template_id: str, key: str, member_ids: list[str]) -> set[str]:
    held: set[str] = set()
    for start in range(0, len(member_ids), LOOKUP_CHUNK):
        chunk = member_ids[start:start + LOOKUP_CHUNK]
        query = select(CouponRow.member_id).where(
            CouponRow.template_id == template_id, CouponRow.campaign_key == key, one_of(session, COUPON.c.member_id, chunk),
            col(CouponRow.code).is_not(None),
        )
        held.update(m for m in (await session.exec(query)).all() if m is not None)
    return held


async def customers_of(session: AsyncSession, member_ids: Sequence[str]) -> set[str]:
    """The ids among `member_ids` that are customers as members' events told campaigns, and not
    erased: the members a coupon may be issued to by hand. Any other id (a typo, a member erased)
    would get a coupon nobody holds and take a place under the template's cap."""
    known: set[str] = set()
    for start in range(0, len(member_ids), LOOKUP_CHUNK):
        chunk = member_ids[start:start + LOOKUP_CHUNK]
        query = select(CustomerRow.member_id).where(one_of(session, CUSTOMER.c.member_id, chunk), col(CustomerRow.erased_at).is_(None))
        known.update((await session.exec(query)).all())
    return known


async def ensure_issuing_by_hand(session: AsyncSession, campaign_id: str, template_id: str, now: datetime) -> None:
    """Coupons given by hand under `campaign_id` count in that campaign's results, and pay what a
    complaint's resolution promised under its own id (`compensation.campaign_id_of`): only a
    running campaign's, of the template it gives (its budget's, where it has one), may be. Under
    an ended one they reached members after its end; under any other id they skewed a campaign's
    rate, or passed for the payment of a compensation coupon that was then never issued."""
    campaign = await session.get(CampaignRow, campaign_id)
    if campaign is None:
        raise Invalid("campaign_id", f"no campaign {campaign_id}")
    if campaign.state != CampaignState.RUNNING or over(now, campaign.ends_at):
        raise Conflict(f"campaign_id: campaign {campaign_id} is {campaign.state}: only a running campaign gives coupons")
    gives = campaign.budget_template_id or campaign.coupon_template_id
    if template_id != gives:
        raise Invalid("campaign_id", f"campaign {campaign_id} gives coupons of template {gives}, not {template_id}"
                      if gives else f"campaign {campaign_id} gives no coupons")


async def held_out_of(session: AsyncSession, campaign_id: str, member_ids: Sequence[str]) -> set[str]:
    """The ids among `member_ids` held out of the campaign (its control group). A coupon of the
    campaign issued to one by hand would make them treated while the results count them as
    control, and the uplift would come out smaller than the campaign's effect."""
    held: set[str] = set()
    for start in range(0, len(member_ids), LOOKUP_CHUNK):
        chunk = list(member_ids[start:start + LOOKUP_CHUNK])
        query = select(CampaignMemberRow.member_id).where(
            CampaignMemberRow.campaign_id == campaign_id, col(CampaignMemberRow.control).is_(True),
            one_of(session, CAMPAIGN_MEMBER.c.member_id, chunk))
        held.update((await session.exec(query)).all())
    return held


async def _locked_counter(session: AsyncSession, key: str) -> CouponCounterRow:
    await ensure_counter(session, key)
    return (await session.exec(select(CouponCounterRow).where(CouponCounterRow.key == key).with_for_update())).one()


async def _room(session: AsyncSession, take: Take, wanted: int) -> int:
    """Takes up to `wanted` from a count cap under a row lock; answers how many it took."""
    if take.count_cap is None or wanted == 0:
        return wanted
    row = await _locked_counter(session, take.key)
    granted = max(0, min(wanted, take.count_cap - row.used_count))
    row.used_count += granted
    session.add(row)
    return granted


async def issue(uow: UnitOfWork, template_id: str, member_ids: list[str], campaign_id: str | None,
                draw: Draw | None = None, *, once_per_member: bool = True) -> Issued:
    """One coupon of the template per member (per campaign): members who hold one already are
    counted, not issued again; beyond the `issued` cap the rest are counted as over budget.
    A triggered campaign, which reaches a member once per occasion (and keeps that record itself),
    issues with `once_per_member=False`: a second complaint earns a second coupon."""
    template = await get_template(uow.session, template_id)
    spec = spec_of(template)
    if spec.generic_code is not None:
        raise Conflict(f"template {template_id} has the generic code {spec.generic_code}: nobody needs to be issued one")
    now = uow.now()
    key = campaign_key(template_id, campaign_id)
    wanted = list(dict.fromkeys(member_ids))
    issued = Take(f"{key}|issued", spec.caps.issued)
    if once_per_member:
        # Who holds one is read under the lock of the issued counter, capped or not: of two issues
        # at once (a double click) the second waits for the first and finds its members holding one.
        await _locked_counter(uow.session, issued.key)
    held = await _holders(uow.session, template_id, key, wanted) if once_per_member else set()
    new = [m for m in wanted if m not in held]
    granted = await _room(uow.session, issued, len(new))
    result = Issued(requested=len(wanted), already_held=len(held), over_budget=len(new) - granted)
    valid_from, valid_until = spec.validity.window(now, uow.settings.zone)
    rows: dict[str, dict[str, Any]] = {m: {"id": str(uuid.uuid4()), "template_id": template_id, "campaign_id": campaign_id, "campaign_key": key,
                "member_id": m, "state": State.ISSUED.value, "issued_at": now, "valid_from": valid_from,
                "valid_until": valid_until} for m in new[:granted]}
    await _insert_with_codes(uow.session, list(rows.values()), draw)
    if rows:
        # The events differ only in the coupon's and the member's ids: the first is validated, the
        # rest are copies of it with their own ids (validating each cost a tenth of a launch).
        first = next(iter(rows.values()))
        model = c.CouponIssuedV1(coupon_id=first["id"], template_id=template_id, campaign_id=campaign_id,
                                 member_id=first["member_id"], valid_from=valid_from, valid_until=valid_until, issued_at=now)
        await uow.emit_many(COUPON_ISSUED, (
            (model.model_copy(update={"coupon_id": row["id"], "member_id": row["member_id"]}), row["id"],
             derived_event_id(SERVICE, "coupon_issued", row["id"]))
            for row in rows.values()
        ))
    result.issued = len(rows)
    result.coupon_ids = [r["id"] for r in rows.values()]
    result.coupon_of = {m: r["id"] for m, r in rows.items()}
    return result


async def _insert_with_codes(session: AsyncSession, rows: list[dict[str, Any]], draw: Draw | None) -> None:
    """Gives each row a fresh code and inserts them a chunk at a time; the unique index on `code`
    refuses the rare code already issued (ON CONFLICT DO NOTHING), and those rows get a new code."""
    pending = rows
    while pending:
        for row, code in zip(pending, new_member_codes(len(pending), draw), strict=True):
            row["code"] = code
        inserted = set(await insert_or_skip(session, COUPON, pending, conflict_on=["code"], returning="id"))
        pending = [row for row in pending if row["id"] not in inserted]


async def on_member_erased(uow: UnitOfWork, delivery: Delivery) -> None:
    """The erased member's unused coupons end (`withdrawn`): nobody holds them any more (their card
    applies nothing, `cards.on_member_erased`), so none is left looking as if it were still to be
    used. Used ones stay as they are, the sales' history; one held by a till for a sale in flight is
    that sale's to redeem or release. The `issued` caps and a campaign's issued count keep them:
    they were issued."""
    erased = cast(c.MemberErasedV1, delivery.payload)
    await uow.session.exec(
        update(CouponRow)
        .where(col(CouponRow.member_id) == erased.member_id, col(CouponRow.code).is_not(None),
               col(CouponRow.state) == State.ISSUED.value)
        .values(state=State.WITHDRAWN.value)
    )
