"""The `value-analytics` job: every member's RFM scores, value class and churn risk.

One pass reads every attributed purchase that was not fully returned (one ordered query, the
purchase-time index serves it), folds it per member into purchase days and window spend, and the
pure rules in `domain` (rfm, value_classes, churn) turn that into each member's snapshot. The
snapshots are written in one transaction (readers see either the old run or the new one): the
day-dependent columns of all of them in one statement, the rest only where something changed.
The run's summary is stored beside.

Returns count at the time of their sale: a sale's worth is what was paid for it (total less
discounts) minus what its returns gave back, so a return never makes window spend negative and a sale returned in full is no purchase at
all (no purchase day, no frequency) - consistent with lifetime spend, which is net of returns too.

A run over data that did not change since the last run, with the same clock and settings, would
change nothing: it records the last run's results as its own (`analytics_inputs`) instead.

Campaigns get `crm.members.member_attributes.v1` only for members whose segment attributes
(tier, channel, store, community, R, F, M, class, churn risk, window length) changed since the
last publication, so a rerun publishes nothing new. Event ids derive from the member, a
per-member counter and the attributes, so a job interrupted after writing the outbox and run again
cannot publish a change twice. Erased members count in every total but are never published:
other services have purged them and must not learn of them again.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, bindparam, delete, func, literal, type_coerce, update
from sqlmodel import col, select

from members.adapters.tables import MemberRow, PurchaseRow
from members.adapters.tables.analytics import MemberComplaintRow, MemberValueRow, ValueAnalyticsRunRow
from members.config import Settings
from members.domain import churn, rfm, value_classes
from members.service_layer import analytics_inputs
from shared.collector import collector_paused
from shared.columns import MoneyColumn
from shared.commands import Commands, derived_event_id
from shared.db import driver_connection, insert_rows, is_postgresql, unnest_rows
from shared.events import contracts as c
from shared.events.registry import MEMBER_ATTRIBUTES
from shared.unit_of_work import Emission, UnitOfWork

JOB_NAME = "value-analytics"
# Snapshot columns a run compares with what is stored (as_of and days since change every day and
# are refreshed in bulk); the publication bookkeeping comes last.
STORED = (
    "window_days", "recency", "frequency", "monetary", "value_class", "rhythm_churn_risk", "churn_risk",
    "window_spend", "window_purchase_days", "last_purchase_at", "last_purchase_day", "typical_interval_days",
    "rhythm_source", "attributes_digest", "attributes_version", "published_at",
)
BATCH = 5000
SEGMENT_FIELDS = (
    "tier", "channel", "home_store_id", "community_id", "window_days",
    "recency", "frequency", "monetary", "value_class", "churn_risk",
)


@dataclass
class _History:
    """One member's purchases as the job folds them (they arrive in time order)."""

    days: list[date] = field(default_factory=list)  # distinct local purchase days, ascending
    last_at: datetime | None = None
    window_days: int = 0
    window_fen: int = 0  # summed as integers, made the Decimal below once per member
    window_spend: Decimal = Decimal("0.00")


async def run(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
    """The `value-analytics` job."""
    # Hundreds of thousands of objects stay alive until the commit, none in a cycle.
    with collector_paused():
        async with commands() as uow:
            return await compute(uow, settings, now)


async def compute(uow: UnitOfWork, settings: Settings, now: datetime) -> dict[str, Any]:
    zone = settings.zone
    today = now.astimezone(zone).date()
    window_start = now - timedelta(days=settings.analytics_window_days)
    session = uow.session

    # The snapshots are the customers' current scores, which campaigns and the console act on: a
    # run by hand for a moment before the latest run's (a date typed wrong, a "rerun" of a missed
    # day) would put them back to then and announce every change it made.
    latest = (await session.exec(select(func.max(col(ValueAnalyticsRunRow.as_of))))).one()
    if latest is not None and latest > now:
        return {"as_of": now.isoformat(), "skipped": True,
                "reason": f"the scores are as of {latest.isoformat()}, later than this run's moment; they stay"}

    # Before reading anything: a change committed while the job reads then makes the stored
    # key differ from what the next run finds, so that run scores again rather than reuse.
    read = await analytics_inputs.table_digests(session, analytics_inputs.READ)
    if read is not None:
        reused = await _reuse_last_run(uow, settings, now, read)
        if reused is not None:
            return reused

    members = await _members(uow)
    histories = _fold(await _purchases(uow, now), zone, window_start)
    complained = await recent_complainers(uow, now, settings.churn_complaint_days)
    previous = {
        row[0]: row[1:]
        for row in (await session.exec(select(*(col(getattr(MemberValueRow, f)) for f in ("member_id", *STORED))))).all()
    }

    empty = _History()
    own = {member_id: churn.typical_interval(h.days) for member_id, h in histories.items()}
    population = churn.population_interval(own.values())
    spend = {m.id: histories.get(m.id, empty).window_spend for m in members}
    classes = value_classes.classify(spend, settings.class_boundaries)
    activity = {
        member_id: rfm.Activity((today - h.days[-1]).days, h.window_days, h.window_spend)
        for member_id, h in histories.items()
        if h.window_spend > 0
    }
    scores = rfm.rfm_scores(activity)

    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    risks: dict[str, int] = {}
    thresholds = settings.churn_thresholds  # a property that builds and checks them on each call

    def scored() -> Iterator[Emission]:
        """Each member's snapshot, into `inserts` or `updates`, and their attributes event if a
        segment attribute changed. A generator, so that on PostgreSQL the COPY of the events pulls
        each member through while the server stores the events before it."""
        for m in members:
            h = histories.get(m.id, empty)
            interval = own.get(m.id)
            rhythm = churn.Rhythm(interval, "own") if interval is not None else churn.rhythm_of(h.days, population)
            days_since = (today - h.days[-1]).days if h.days else None
            rhythm_risk = churn.churn_risk(days_since, rhythm.typical_interval_days, thresholds)
            score = scores.get(m.id, rfm.NO_PURCHASE)
            row: dict[str, Any] = {
                "member_id": m.id, "as_of": now, "window_days": settings.analytics_window_days,
                "recency": score.recency, "frequency": score.frequency, "monetary": score.monetary,
                "value_class": classes.classes[m.id], "rhythm_churn_risk": rhythm_risk,
                "churn_risk": churn.effective_risk(rhythm_risk, m.id in complained),
                "window_spend": h.window_spend, "window_purchase_days": h.window_days,
                "last_purchase_at": h.last_at, "last_purchase_day": h.days[-1].toordinal() if h.days else None,
                "days_since_last_purchase": days_since,
                "typical_interval_days": rhythm.typical_interval_days, "rhythm_source": rhythm.source,
            }
            before = previous.get(m.id)
            digest, version, published_at = before[-3:] if before else ("", 0, None)
            row.update(attributes_digest=digest, attributes_version=version, published_at=published_at)
            event = attributes_event(m, row, now) if m.erased_at is None else None
            risks[row["churn_risk"]] = risks.get(row["churn_risk"], 0) + 1
            if before is None:
                inserts.append(row)
            elif before != tuple(row[f] for f in STORED):
                updates.append(row)
            if event is not None:
                yield event

    # One bulk emission, in member order: the envelope serialised once, not per member.
    published = await uow.emit_many(MEMBER_ATTRIBUTES, scored())
    if sum(risks.values()) != len(members):
        raise AssertionError("the bulk emission left members unscored")
    await _write(uow, now, today, inserts, updates, previous.keys() - {m.id for m in members} if previous else set())
    summary = _summary(settings, now, len(members), classes, risks, published, population)
    summary["snapshots_changed"] = len(inserts) + len(updates)
    summary["reused"] = False
    written = await analytics_inputs.table_digests(session, (analytics_inputs.WRITTEN,))
    session.add(
        ValueAnalyticsRunRow(as_of=now, window_days=settings.analytics_window_days,
                             members_total=len(members), published=published, summary=summary,
                             inputs_key=None if read is None or written is None
                             else analytics_inputs.run_key(now, settings, read | written))
    )
    return summary


async def _reuse_last_run(
    uow: UnitOfWork, settings: Settings, now: datetime, read: dict[str, str]
) -> dict[str, Any] | None:
    """The last run's results as this run's, if nothing the job reads changed since it and the
    clock and settings are the same: scoring again would change no snapshot and publish nothing."""
    session = uow.session
    last = (await session.exec(select(ValueAnalyticsRunRow).order_by(col(ValueAnalyticsRunRow.id).desc()).limit(1))).first()
    if last is None or last.inputs_key is None:
        return None
    written = await analytics_inputs.table_digests(session, (analytics_inputs.WRITTEN,))
    key = analytics_inputs.run_key(now, settings, read | (written or {}))
    if key != last.inputs_key:
        return None
    summary = {**last.summary, "published": 0, "snapshots_changed": 0, "reused": True}
    session.add(ValueAnalyticsRunRow(as_of=now, window_days=last.window_days, members_total=last.members_total,
                                     published=0, summary=summary, inputs_key=key))
    return summary


async def _write(
    uow: UnitOfWork, now: datetime, today: date, inserts: list[dict[str, Any]], updates: list[dict[str, Any]],
    gone: set[str],
) -> None:
    """Refreshes the time-dependent columns of every snapshot in one statement, then writes only
    the snapshots that changed: a daily run touches a small share of 100,000 rows."""
    # Core statements: executemany without ORM bookkeeping (SQLModel does not declare __table__).
    table = MemberValueRow.__table__  # type: ignore[attr-defined]
    session = uow.session
    await session.exec(
        update(table).values(as_of=now, days_since_last_purchase=literal(today.toordinal()) - table.c.last_purchase_day)
    )
    columns = (*STORED, "as_of", "days_since_last_purchase")
    if updates and is_postgresql(session):  # one UPDATE ... FROM unnest(...) for all of them
        changed = unnest_rows(table, [{"member_id": r["member_id"], **{f: r[f] for f in columns}} for r in updates])
        await session.exec(
            update(table).where(table.c.member_id == changed.c.member_id).values(**{f: changed.c[f] for f in columns})
        )
    elif updates:
        by_id = update(table).where(table.c.member_id == bindparam("b_member_id"))
        params = [{"b_member_id": r["member_id"], **{f: r[f] for f in columns}} for r in updates]
        for start in range(0, len(params), BATCH):
            await session.exec(by_id, params=params[start:start + BATCH])
    await insert_rows(session, table, inserts)  # COPY on PostgreSQL
    gone_ids = sorted(gone)  # members never disappear today; a snapshot must not outlive one that did
    for start in range(0, len(gone_ids), BATCH):
        await session.exec(delete(table).where(table.c.member_id.in_(gone_ids[start:start + BATCH])))


class _Member(NamedTuple):
    id: str
    tier: str
    channel: str
    home_store_id: str | None
    community_id: str | None
    birthday: date | None
    erased_at: datetime | None


# On PostgreSQL the job reads its 100,000s of rows straight through the driver, without
# SQLAlchemy's processing of each value (money, times); the same selections as the portable
# queries below them.
_MEMBERS_SQL = "SELECT id, tier, channel, home_store_id, community_id, birthday, erased_at FROM member"
_PURCHASES_SQL = """
SELECT member_id, occurred_at, total - discount - returned_paid FROM purchase
WHERE member_id IS NOT NULL AND total > returned AND occurred_at <= $1
ORDER BY member_id, occurred_at"""


async def _members(uow: UnitOfWork) -> list[_Member]:
    session = uow.session
    if is_postgresql(session):
        return [_Member(*r) for r in await (await driver_connection(session)).fetch(_MEMBERS_SQL)]
    rows = await session.exec(
        select(MemberRow.id, MemberRow.tier, MemberRow.channel, MemberRow.home_store_id,  # type: ignore[call-overload]  # sqlmodel's select is typed for at most four columns
               MemberRow.community_id, MemberRow.birthday, MemberRow.erased_at)
    )
    return [_Member(*r) for r in rows]


async def _purchases(uow: UnitOfWork, now: datetime) -> Iterable[tuple[str | None, datetime, int]]:
    """(member, time, worth in fen) of every attributed purchase up to `now` not returned in
    full, member by member in time order; worth is what was paid less what returns gave back."""
    session = uow.session
    if is_postgresql(session):
        return await (await driver_connection(session)).fetch(_PURCHASES_SQL, now)
    return await session.exec(
        select(
            col(PurchaseRow.member_id), col(PurchaseRow.occurred_at),
            # The stored fen, not MoneyColumn's Decimal: the fold adds integers.
            type_coerce(col(PurchaseRow.total) - col(PurchaseRow.discount) - col(PurchaseRow.returned_paid), BigInteger()),
        )
        .where(col(PurchaseRow.member_id).is_not(None), col(PurchaseRow.total) > col(PurchaseRow.returned))
        .where(col(PurchaseRow.occurred_at) <= now)
        .order_by(col(PurchaseRow.member_id), col(PurchaseRow.occurred_at))
    )


def _fold(purchases: Iterable[tuple[str | None, datetime, int]], zone: ZoneInfo, window_start: datetime) -> dict[str, _History]:
    histories: dict[str, _History] = {}
    for member_id, occurred_at, net_fen in purchases:
        assert member_id is not None, "the query leaves out unattributed sales"
        h = histories.get(member_id)
        if h is None:
            h = histories[member_id] = _History()
        day = occurred_at.astimezone(zone).date()
        new_day = not h.days or h.days[-1] != day
        if new_day:
            h.days.append(day)
        h.last_at = occurred_at
        if occurred_at > window_start:
            h.window_fen += net_fen
            # A day is counted once, and the first purchase of it inside the window counts it.
            if new_day or h.window_days == 0:
                h.window_days += 1
    for h in histories.values():
        h.window_spend = Decimal(h.window_fen).scaleb(-MoneyColumn.scale)
    return histories


async def recent_complainers(uow: UnitOfWork, now: datetime, days: int) -> set[str]:
    since = now - timedelta(days=days)
    rows = await uow.session.exec(
        select(MemberComplaintRow.member_id).distinct()
        .where(col(MemberComplaintRow.filed_at) > since, col(MemberComplaintRow.filed_at) <= now)
    )
    return set(rows.all())


def publish_if_changed(uow: UnitOfWork, member: Any, row: dict[str, Any], now: datetime) -> bool:
    """Announces the member's attributes if a segment attribute changed since the last time;
    updates the digest, counter and time of publication in `row`."""
    event = attributes_event(member, row, now)
    if event is None:
        return False
    uow.emit(MEMBER_ATTRIBUTES, event.data, key=event.key, subject=event.subject, event_id=event.event_id)
    return True


# json.dumps(..., sort_keys=True) builds an encoder per call; the same text from one encoder.
_SEGMENT_JSON = json.JSONEncoder(sort_keys=True)


def attributes_event(member: Any, row: dict[str, Any], now: datetime) -> Emission | None:
    """The member's attributes event if a segment attribute changed since the last publication
    (then `row` gets the new digest, counter and time of publication), else None."""
    birth_month = member.birthday.month if member.birthday is not None else None
    segment = {
        "tier": member.tier, "channel": member.channel, "home_store_id": member.home_store_id,
        "community_id": member.community_id, "birth_month": birth_month, **{k: row[k] for k in SEGMENT_FIELDS[4:]},
    }
    digest = hashlib.sha256(_SEGMENT_JSON.encode(segment).encode()).hexdigest()
    if digest == row["attributes_digest"]:
        return None
    version = row["attributes_version"] + 1
    data = c.MemberAttributesV1(
        member_id=member.id, as_of=row["as_of"], window_days=row["window_days"], tier=member.tier,
        channel=member.channel, home_store_id=member.home_store_id, community_id=member.community_id,
        recency=row["recency"], frequency=row["frequency"], monetary=row["monetary"],
        value_class=row["value_class"], churn_risk=row["churn_risk"],
        days_since_last_purchase=row["days_since_last_purchase"],
        typical_interval_days=row["typical_interval_days"], window_spend=row["window_spend"],
        birth_month=birth_month,
    )
    row.update(attributes_digest=digest, attributes_version=version, published_at=now)
    return Emission(data, member.id, derived_event_id("members", "attributes", member.id, version, digest), member.id)


def _summary(
    settings: Settings, now: datetime, members_total: int, classes: value_classes.Classification[str],
    risks: Mapping[str, int], published: int, population: float | None,
) -> dict[str, Any]:
    """What the run found, JSON-ready (amounts and shares as decimal strings)."""
    boundaries = settings.class_boundaries
    return {
        "job": JOB_NAME,
        "as_of": now.isoformat(),
        "window_days": settings.analytics_window_days,
        "members_total": members_total,
        "buyers": classes.buyers,
        "window_spend_total": str(classes.total_spend),
        "top_fraction": str(boundaries.top_fraction),
        "top_share": str(classes.top_share),
        "key_share_boundary": str(boundaries.key_share),
        "secondary_share_boundary": str(boundaries.secondary_share),
        "key_share_actual": str(classes.key_share),
        "key_min_spend": _text(classes.key_min_spend),
        "secondary_min_spend": _text(classes.secondary_min_spend),
        "classes": dict(classes.counts),
        "churn": {risk: risks.get(risk, 0) for risk in ("low", "medium", "high", "lost", "unknown")},
        "population_interval_days": population,
        # The complaint consumer raises risks with the window of the snapshot it adjusts.
        "churn_complaint_days": settings.churn_complaint_days,
        "published": published,
    }


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)
