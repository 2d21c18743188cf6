"""The audience: campaigns' read model of customers, kept from members' events, and the saved
segments evaluated over it.

Campaigns never asks members about a customer: registration, attributes, tier changes, consents,
the opt-out of personalised offers, erasure and attributed sales and returns arrive on `crm.members.events` and are folded in here.
Events of one member may arrive in any order and more than once, so every fact carries the time it
was true at and a handler changes a fact only with a newer one; sales and returns are keyed by
their event ids, and the figures derived from them (lifetime spend, last purchase) are recomputed
from the stored rows rather than incremented.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from sqlalchemy import case, delete, func, or_, type_coerce, update
from sqlalchemy import select as core_select
from sqlmodel import col, select

from campaigns.adapters.tables import (
    CustomerPurchaseCategoryRow,
    CustomerPurchaseRow,
    CustomerReturnRow,
    CustomerRow,
    SegmentRow,
)
from campaigns.domain.segments import ReadModel, SegmentRule, where
from shared.columns import MoneyColumn
from shared.consumer import Delivery
from shared.db import advisory_lock, one_of, take_advisory_locks
from shared.errors import Conflict, NotFound
from shared.events import contracts as c
from shared.unit_of_work import UnitOfWork
from shared.zones import start_of_day

ZERO = Decimal("0.00")
CUSTOMERS = CustomerRow.__table__  # type: ignore[attr-defined]
CATEGORIES = CustomerPurchaseCategoryRow.__table__  # type: ignore[attr-defined]
READ_MODEL = ReadModel(CUSTOMERS, CATEGORIES)
SAMPLE_SIZE = 20
# The advisory lock of one segment name ('sgmt', with the hash of the name).
SEGMENT_NAMES = 0x73676D74


# --- the read model: one handler per members' event


async def _customer(uow: UnitOfWork, member_id: str) -> CustomerRow:
    row = await uow.session.get(CustomerRow, member_id)
    if row is None:
        row = CustomerRow(member_id=member_id)
        uow.session.add(row)
    return row


def _newer(at: datetime, than: datetime | None) -> bool:
    return than is None or at >= than


async def on_member_registered(uow: UnitOfWork, delivery: Delivery) -> None:
    member = cast(c.MemberRegisteredV1, delivery.payload)
    _registered(await _customer(uow, member.member_id), member)


def _registered(row: CustomerRow, member: c.MemberRegisteredV1) -> None:
    if row.erased_at is not None:
        return
    row.registered_at = member.registered_at
    # Attributes taken after the registration know the customer's store and community better.
    _profile(row, member.registered_at, member.channel, member.home_store_id, member.community_id)
    if row.tier is None:
        row.tier = "member"  # every member starts as one; tier_at stays unset so any later fact wins


async def on_member_profile_changed(uow: UnitOfWork, delivery: Delivery) -> None:
    """Staff moved the member to another store, channel or community: segments select them by the
    new ones at once, not from the next attributes (the analytics job's, daily)."""
    changed = cast(c.MemberProfileChangedV1, delivery.payload)
    row = await _customer(uow, changed.member_id)
    if row.erased_at is None:
        _profile(row, changed.changed_at, changed.channel, changed.home_store_id, changed.community_id)


def _profile(row: CustomerRow, at: datetime, channel: str, home_store_id: str | None, community_id: str | None) -> None:
    """The channel, home store and community as of `at`, unless newer ones are known: attributes
    the analytics read before staff moved the member, and published after, do not move them back."""
    if _newer(at, row.profile_at):
        row.channel, row.home_store_id, row.community_id, row.profile_at = channel, home_store_id, community_id, at


async def on_member_attributes(uow: UnitOfWork, delivery: Delivery) -> None:
    a = cast(c.MemberAttributesV1, delivery.payload)
    row = await _customer(uow, a.member_id)
    if row.erased_at is not None or not _newer(a.as_of, row.attributes_as_of):
        return
    row.attributes_as_of = a.as_of
    _profile(row, a.as_of, a.channel, a.home_store_id, a.community_id)
    row.value_class, row.churn_risk = a.value_class, a.churn_risk
    row.recency, row.frequency, row.monetary = a.recency, a.frequency, a.monetary
    row.days_since_last_purchase, row.birth_month = a.days_since_last_purchase, a.birth_month
    if _newer(a.as_of, row.tier_at):
        row.tier, row.tier_at = a.tier, a.as_of
    await _refresh_purchases(uow, row)


async def on_tier_changed(uow: UnitOfWork, delivery: Delivery) -> None:
    changed = cast(c.TierChangedV1, delivery.payload)
    row = await _customer(uow, changed.member_id)
    if row.erased_at is None and _newer(changed.changed_at, row.tier_at):
        row.tier, row.tier_at = changed.new_tier, changed.changed_at


async def on_consent_changed(uow: UnitOfWork, delivery: Delivery) -> None:
    consent = cast(c.ConsentChangedV1 | c.ConsentChangedV2, delivery.payload)
    _consent_changed(await _customer(uow, consent.member_id), consent)


def _consent_changed(row: CustomerRow, consent: c.ConsentChangedV1 | c.ConsentChangedV2) -> None:
    # Service tips are not marketing (no segment asks for them); the sender checks them.
    channel = {"marketing_sms": "sms", "marketing_email": "email", "service_tips_sms": "service_tips_sms"}[consent.purpose]
    if row.erased_at is not None or not _newer(consent.changed_at, getattr(row, f"consent_{channel}_at")):
        return
    setattr(row, f"consent_{channel}", consent.granted)
    setattr(row, f"consent_{channel}_at", consent.changed_at)


async def on_personalisation_changed(uow: UnitOfWork, delivery: Delivery) -> None:
    choice = cast(c.PersonalisationChangedV1, delivery.payload)
    _personalisation_changed(await _customer(uow, choice.member_id), choice)


def _personalisation_changed(row: CustomerRow, choice: c.PersonalisationChangedV1) -> None:
    if row.erased_at is not None or not _newer(choice.changed_at, row.personalised_at):
        return
    row.personalised, row.personalised_at = choice.personalised, choice.changed_at


async def on_customer_facts(uow: UnitOfWork, deliveries: list[Delivery]) -> None:
    """Registrations, consents and personalisation choices of a run, in their order, on the
    customers' rows loaded in one SELECT (one by one, each event cost a look-up of its own and
    the write of its row): a desk's registration arrives with the consents given at it."""
    session = uow.session
    ids = {cast(CustomerFact, d.payload).member_id for d in deliveries}
    rows = {row.member_id: row for row in (await session.exec(
        select(CustomerRow).where(one_of(session, col(CustomerRow.member_id), ids)))).all()}
    for delivery in deliveries:
        fact = cast(CustomerFact, delivery.payload)
        row = rows.get(fact.member_id)
        if row is None:
            row = rows[fact.member_id] = CustomerRow(member_id=fact.member_id)
            session.add(row)
        if isinstance(fact, c.MemberRegisteredV1):
            _registered(row, fact)
        elif isinstance(fact, c.PersonalisationChangedV1):
            _personalisation_changed(row, fact)
        else:
            _consent_changed(row, fact)


CustomerFact = c.MemberRegisteredV1 | c.ConsentChangedV1 | c.ConsentChangedV2 | c.PersonalisationChangedV1


async def on_member_erased(uow: UnitOfWork, delivery: Delivery) -> None:
    """Out of every audience for good. Kept: the id, when, and the sales' amounts and times, which
    campaign results already reported count (spend and visits of a treatment or control group)."""
    erased = cast(c.MemberErasedV1, delivery.payload)
    row = await _customer(uow, erased.member_id)
    row.erased_at = row.erased_at or erased.erased_at
    for column in (
        "registered_at", "channel", "home_store_id", "community_id", "profile_at", "tier", "tier_at", "attributes_as_of",
        "value_class", "recency", "frequency", "monetary", "churn_risk", "days_since_last_purchase", "birth_month",
        "last_purchase_at", "consent_sms", "consent_sms_at", "consent_email", "consent_email_at",
        "consent_service_tips_sms", "consent_service_tips_sms_at", "personalised", "personalised_at",
    ):
        setattr(row, column, None)
    row.lifetime_spend = ZERO
    session = uow.session
    await session.exec(delete(CATEGORIES).where(CATEGORIES.c.member_id == erased.member_id))
    returns = CustomerReturnRow.__table__  # type: ignore[attr-defined]
    await session.exec(
        update(returns).where(returns.c.member_id == erased.member_id).values(by_category={})
    )


def _by_category(lines: list[c.AttributedLine]) -> dict[str, Decimal]:
    amounts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        if line.category:  # uncategorised lines count in the total only
            amounts[line.category[:64]] += line.amount
    return dict(amounts)


async def on_purchase_attributed(uow: UnitOfWork, delivery: Delivery) -> None:
    sale = cast(c.PurchaseAttributedV1, delivery.payload)
    session = uow.session
    if await session.get(CustomerPurchaseRow, sale.sale_event_id) is not None:
        return  # the same sale again (a late match re-announces it): counted once
    row = await _customer(uow, sale.member_id)
    session.add(CustomerPurchaseRow(
        sale_event_id=sale.sale_event_id, member_id=sale.member_id, store_id=sale.store_id,
        occurred_at=sale.occurred_at, total=sale.total, discount=sale.discount,
    ))
    if row.erased_at is None:
        for category, amount in _by_category(sale.lines).items():
            session.add(CustomerPurchaseCategoryRow(
                sale_event_id=sale.sale_event_id, category=category, member_id=sale.member_id,
                occurred_at=sale.occurred_at, amount=amount,
            ))
    await session.flush()
    await _settle(uow, sale.sale_event_id)
    await _refresh_purchases(uow, row)


async def on_return_attributed(uow: UnitOfWork, delivery: Delivery) -> None:
    refund = cast(c.ReturnAttributedV1, delivery.payload)
    session = uow.session
    if await session.get(CustomerReturnRow, refund.refund_event_id) is not None:
        return
    row = await _customer(uow, refund.member_id)
    by_category = _by_category(refund.lines) if row.erased_at is None else {}
    session.add(CustomerReturnRow(
        refund_event_id=refund.refund_event_id, sale_event_id=refund.sale_event_id, member_id=refund.member_id,
        occurred_at=refund.occurred_at, amount=refund.amount, by_category={k: str(v) for k, v in by_category.items()},
    ))
    await session.flush()
    await _settle(uow, refund.sale_event_id)
    await _refresh_purchases(uow, row)


async def _settle(uow: UnitOfWork, sale_event_id: str) -> None:
    """Sets what was returned of a sale, in total and per category, from all its returns so far
    (a no-op until both the sale and a return are known, whichever came first)."""
    session = uow.session
    returns = (
        await session.exec(select(CustomerReturnRow).where(col(CustomerReturnRow.sale_event_id) == sale_event_id))
    ).all()
    if not returns:
        return
    purchase = await session.get(CustomerPurchaseRow, sale_event_id)
    if purchase is None:
        return
    purchase.returned = sum((r.amount for r in returns), ZERO)
    per_category: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for r in returns:
        for category, amount in r.by_category.items():
            per_category[category] += Decimal(amount)
    categories = (
        await session.exec(
            select(CustomerPurchaseCategoryRow).where(col(CustomerPurchaseCategoryRow.sale_event_id) == sale_event_id)
        )
    ).all()
    for line in categories:
        line.returned = per_category.get(line.category, ZERO)


def net_paid(purchases: Any) -> Any:
    """What a sale's customer paid and kept, in fen: the paid amount (total - discount) less the
    returned share of it. Returns carry the gross of the lines they bring back, so a discounted
    sale returned whole nets to zero, not to minus its discount. One expression for the lifetime
    spend here and the campaign results."""
    paid = purchases.c.total - purchases.c.discount
    kept = purchases.c.total - purchases.c.returned
    return case((purchases.c.total == 0, 0), else_=paid * kept // purchases.c.total)


async def _refresh_purchases(uow: UnitOfWork, row: CustomerRow) -> None:
    """Lifetime spend (paid, net of returns) and the last purchase not returned in full, from the
    customer's stored sales; the attributes' days since the last purchase count too, for
    purchases made before campaigns was listening."""
    if row.erased_at is not None:
        return
    p = CustomerPurchaseRow.__table__  # type: ignore[attr-defined]
    net = net_paid(p)
    await uow.session.flush()
    spent, last = (
        await uow.session.exec(  # type: ignore[call-overload]
            core_select(type_coerce(func.coalesce(func.sum(net), 0), MoneyColumn()), func.max(p.c.occurred_at).filter(net > 0))
            .where(p.c.member_id == row.member_id)
        )
    ).one()
    row.lifetime_spend = max(spent, ZERO)
    if row.attributes_as_of is not None and row.days_since_last_purchase is not None:
        seen = _day_of_last_purchase(row.attributes_as_of, row.days_since_last_purchase, uow.settings.zone)
        last = seen if last is None or seen > last else last
    row.last_purchase_at = last


def _day_of_last_purchase(as_of: datetime, days_since: int, zone: ZoneInfo) -> datetime:
    """The last purchase the attributes tell of, `days_since` local calendar days before `as_of`
    (members' count): the start of that day, as the day is all they say and a purchase campaigns
    saw on it keeps its own time. Not `as_of` less 24-hour days, which a change of the clocks
    moves to another day."""
    return start_of_day(as_of.astimezone(zone).date() - timedelta(days=days_since), zone)


# --- saved segments


async def create_segment(
    uow: UnitOfWork, *, name: str, description: str, rule: SegmentRule, by: str, now: datetime, segment_id: str | None = None,
) -> SegmentRow:
    await _name_free(uow, name)
    row = SegmentRow(
        id=segment_id or str(uuid.uuid4()), name=name, description=description, rule=rule.to_json(),
        created_by=by, created_at=now, updated_by=by, updated_at=now,
    )
    uow.session.add(row)
    await uow.session.flush()
    return row


async def list_segments(uow: UnitOfWork, *, include_archived: bool = False) -> list[SegmentRow]:
    query = select(SegmentRow).order_by(col(SegmentRow.name), col(SegmentRow.id))
    if not include_archived:
        query = query.where(col(SegmentRow.status) == "active")
    return list((await uow.session.exec(query)).all())


async def get_segment(uow: UnitOfWork, segment_id: str) -> SegmentRow:
    row = await uow.session.get(SegmentRow, segment_id)
    if row is None:
        raise NotFound(f"no segment {segment_id}")
    return row


def ensure_active(row: SegmentRow, field: str | None = None) -> None:
    """An archived segment stays for the campaigns that used it, and nothing new takes it: no
    change, no campaign created or launched with it (named as `field` where a body chose it)."""
    if row.status != "active":
        raise Conflict(f"{field + ': ' if field else ''}segment {row.id} is archived; create a new one")


async def update_segment(
    uow: UnitOfWork, segment_id: str, *, name: str, description: str, rule: SegmentRule, by: str, now: datetime
) -> SegmentRow:
    row = await _locked_segment(uow, segment_id)  # two changes at once: each a version of its own
    ensure_active(row)
    if name != row.name:
        await _name_free(uow, name)
    row.name, row.description, row.rule = name, description, rule.to_json()
    row.version += 1
    row.updated_by, row.updated_at = by, now
    uow.session.add(row)
    await uow.session.flush()
    return row


async def archive_segment(uow: UnitOfWork, segment_id: str, *, by: str, now: datetime) -> SegmentRow:
    """Archived, not deleted: a campaign that used the segment still names it. Archiving twice is
    the same as once."""
    row = await get_segment(uow, segment_id)
    if row.status != "archived":
        row.status, row.updated_by, row.updated_at = "archived", by, now
        uow.session.add(row)
        await uow.session.flush()
    return row


async def _locked_segment(uow: UnitOfWork, segment_id: str) -> SegmentRow:
    # populate_existing: the row may sit in the session from before the lock was waited for.
    query = select(SegmentRow).where(col(SegmentRow.id) == segment_id).with_for_update()
    row = (await uow.session.exec(query.execution_options(populate_existing=True))).first()
    if row is None:
        raise NotFound(f"no segment {segment_id}")
    return row


async def _name_free(uow: UnitOfWork, name: str) -> None:
    # Two saves of one name at once (a double click) would both find it free: the second waits for
    # the first to commit and then finds the name taken.
    await take_advisory_locks(uow.session, advisory_lock(SEGMENT_NAMES, func.hashtext(name)))
    taken = (
        await uow.session.exec(select(SegmentRow.id).where(col(SegmentRow.name) == name, col(SegmentRow.status) == "active"))
    ).first()
    if taken is not None:
        raise Conflict(f"name: a segment named {name!r} exists already")


def rule_of(row: SegmentRow) -> SegmentRule:
    return SegmentRule.from_json(row.rule)


# --- evaluating a rule


@dataclass(frozen=True)
class SampleCustomer:
    """What a preview shows of a customer: ids and classes, no personal data."""

    member_id: str
    tier: str | None
    value_class: str | None
    churn_risk: str | None
    community_id: str | None
    home_store_id: str | None


@dataclass(frozen=True)
class Preview:
    size: int
    sample: list[SampleCustomer]


def _matching(
    rule: SegmentRule, now: datetime, zone: ZoneInfo, consent: Literal["sms", "email", "service_tips_sms"] | None = None,
) -> Any:
    conditions = [CUSTOMERS.c.erased_at.is_(None), where(rule, READ_MODEL, now, zone)]
    if consent is not None:
        conditions.append(CUSTOMERS.c[f"consent_{consent}"].is_(True))
    return conditions


async def preview(uow: UnitOfWork, rule: SegmentRule, now: datetime, *, sample_size: int = SAMPLE_SIZE) -> Preview:
    conditions = _matching(rule, now, uow.settings.zone)
    session = uow.session
    size = (await session.exec(core_select(func.count()).select_from(CUSTOMERS).where(*conditions))).scalar_one()  # type: ignore[call-overload]
    c_ = CUSTOMERS.c
    rows = (
        await session.exec(  # type: ignore[call-overload]
            core_select(c_.member_id, c_.tier, c_.value_class, c_.churn_risk, c_.community_id, c_.home_store_id)
            .where(*conditions).order_by(c_.member_id).limit(sample_size)
        )
    ).all()
    return Preview(size=int(size), sample=[SampleCustomer(*r) for r in rows])


async def audience(
    uow: UnitOfWork, rule: SegmentRule | None, now: datetime, *, consent: Literal["sms", "email", "service_tips_sms"] | None = None,
    among: list[str] | None = None, personalised: bool = False,
) -> list[str]:
    """The member ids a rule selects now (erased customers never; with `consent`, only those who
    agreed to marketing on that channel, or to service tips; when `personalised`, not those who opted out of
    personalised offers), ordered by id: one query, for a campaign to freeze.
    `among` narrows it to given members (a trigger asking about one); no rule selects everyone."""
    conditions = _matching(rule, now, uow.settings.zone, consent) if rule is not None else [CUSTOMERS.c.erased_at.is_(None)]
    if rule is None and consent is not None:
        conditions.append(CUSTOMERS.c[f"consent_{consent}"].is_(True))
    if personalised:
        # Never answered (NULL) is not an opt-out.
        conditions.append(or_(CUSTOMERS.c.personalised.is_(None), CUSTOMERS.c.personalised.is_(True)))
    if among is not None:
        conditions.append(CUSTOMERS.c.member_id.in_(among))
    rows = await uow.session.exec(  # type: ignore[call-overload]
        core_select(CUSTOMERS.c.member_id).where(*conditions).order_by(CUSTOMERS.c.member_id)
    )
    return [r[0] for r in rows.all()]
