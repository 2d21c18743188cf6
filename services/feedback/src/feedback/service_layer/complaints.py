"""Complaint use cases: file, move through the workflow, resolve with compensation, reassign, rate.

Routes check who may act; these functions check what the complaint's state allows, record every
change in the history with its actor and time, and emit the events in the same transaction.
"""

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from feedback.adapters.tables import ComplaintHistoryRow, ComplaintRow, MemberProfileRow
from feedback.config import Settings
from feedback.domain.assignment import assignee_for, check_reassignment, parse_assignee
from feedback.domain.compensation import Compensation, check_compensation
from feedback.domain.workflow import OPEN, Action, DeadlinePolicy, Status, next_due, next_status
from feedback.service_layer import events
from feedback.service_layer.customers import ensure_complaint_recordable, recordable_member
from feedback.service_layer.invitations import Invitation, invite
from shared.errors import Conflict, NotFound
from shared.unit_of_work import UnitOfWork


class ComplaintNotFound(NotFound):
    pass


class ComplaintConflict(Conflict):
    """A request the complaint's state refuses (409), with the reason."""


class IdempotencyConflict(Conflict):
    """The Idempotency-Key was already used by the same caller to file a different complaint."""


@dataclass(frozen=True)
class Filing:
    store_id: str
    channel: str
    category: str
    severity: str
    description: str
    member_id: str | None = None
    sale_store_id: str | None = None
    sale_pos_txn_id: str | None = None

    @property
    def digest(self) -> str:
        """Fingerprint of the filing as the route resolved it (defaults filled in), so a retry that
        leaves out a default it sent the first time is still the same filing."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def policy_of(settings: Settings) -> DeadlinePolicy:
    return DeadlinePolicy(settings.ack_hours, settings.resolve_hours)


def record(uow: UnitOfWork, row: ComplaintRow, action: str, actor: str, at: datetime, *,
           from_status: str | None = None, to_status: str | None = None, detail: str | None = None,
           note: str | None = None) -> None:
    uow.session.add(ComplaintHistoryRow(
        complaint_id=row.id, action=action, from_status=from_status, to_status=to_status, actor=actor,
        detail=detail, note=note, at=at,
    ))


async def load(uow: UnitOfWork, complaint_id: str, *, lock: bool = False) -> ComplaintRow:
    query = select(ComplaintRow).where(ComplaintRow.id == complaint_id)
    row = (await uow.session.exec(query.with_for_update() if lock else query)).first()
    if row is None:
        raise ComplaintNotFound(f"no complaint {complaint_id}")
    return row


async def file_complaint(
    uow: UnitOfWork, settings: Settings, filing: Filing, *, actor: str, now: datetime, idempotency_key: str,
) -> tuple[ComplaintRow, bool]:
    """The new complaint and True, or the one filed before under the same idempotency key and False.

    A key stands for one intended complaint: the same key with another filing is refused (409)
    rather than answered with a complaint the caller did not describe. A complaint without a
    fingerprint (filed before one was kept, or its member erased since) cannot be compared and
    answers any request under its key, as before."""
    digest = filing.digest
    earlier = (await uow.session.exec(select(ComplaintRow).where(
        ComplaintRow.filed_by == actor, ComplaintRow.idempotency_key == idempotency_key))).first()
    if earlier is not None:
        if earlier.request_hash is not None and earlier.request_hash != digest:
            raise IdempotencyConflict(
                f"Idempotency-Key {idempotency_key} was already used to file a different complaint; "
                "a new complaint needs a new key")
        return earlier, False
    profile = await recordable_member(uow.session, filing.member_id) if filing.member_id else None
    policy = policy_of(settings)
    row = ComplaintRow(
        id=str(uuid.uuid4()), member_id=filing.member_id, store_id=filing.store_id, channel=filing.channel,
        category=filing.category, severity=filing.severity, description=filing.description,
        sale_store_id=filing.sale_store_id, sale_pos_txn_id=filing.sale_pos_txn_id, status=Status.FILED.value,
        assignee=assignee_for(filing.store_id, profile.tier if profile else None, profile.manager_id if profile else None),
        filed_by=actor, idempotency_key=idempotency_key, request_hash=digest, filed_at=now,
        ack_due_at=policy.ack_due(filing.severity, now), resolve_due_at=policy.resolve_due(filing.severity, now),
        updated_at=now,
    )
    row.next_due_at = next_due(Status.FILED, row.ack_due_at, row.resolve_due_at)
    uow.session.add(row)
    try:
        await uow.session.flush()  # the history rows refer to it
    except IntegrityError as exc:  # the same Idempotency-Key in a concurrent request
        raise ComplaintConflict(f"Idempotency-Key {idempotency_key} is in use by a concurrent request; retry it") from exc
    record(uow, row, "filed", actor, now, to_status=Status.FILED.value, detail=f"channel {filing.channel}")
    record(uow, row, "assigned", "system", now, detail=f"to {row.assignee}")
    events.emit_filed(uow, row)
    return row, True


def _kept(row: ComplaintRow, text: str | None) -> str | None:
    """Free text written on the complaint, unless its member was erased: the erasure emptied the
    complaint's text once, and text written after it would stay. The complaint itself can still
    be worked to its end, so that it neither waits nor escalates for ever."""
    return None if row.erased_at is not None else text


def _move(uow: UnitOfWork, row: ComplaintRow, action: Action, actor: str, now: datetime, detail: str | None = None,
          note: str | None = None) -> Status:
    current = Status(row.status)
    target = next_status(current, action)  # raises InvalidTransition with the reason
    row.status = target.value
    row.updated_at = now
    record(uow, row, action.value, actor, now, from_status=current.value, to_status=target.value, detail=detail, note=note)
    return target


def _refresh_due(row: ComplaintRow) -> None:
    row.next_due_at = next_due(Status(row.status), row.ack_due_at, row.resolve_due_at)


def acknowledge(uow: UnitOfWork, row: ComplaintRow, actor: str, now: datetime) -> None:
    _move(uow, row, Action.ACKNOWLEDGE, actor, now)
    row.acknowledged_at = now
    _refresh_due(row)


def start(uow: UnitOfWork, row: ComplaintRow, actor: str, now: datetime) -> None:
    _move(uow, row, Action.START, actor, now)
    _refresh_due(row)


def resolve(
    uow: UnitOfWork, settings: Settings, row: ComplaintRow, *, actor: str, now: datetime, note: str,
    compensation: Compensation,
) -> None:
    check_compensation(
        compensation, member_id=row.member_id, already_granted_at=row.compensated_at, member_erased=row.erased_at is not None,
        max_points=settings.compensation_points_max, max_coupon=settings.compensation_coupon_max, zone=settings.zone,
    )
    granted = ""
    if compensation.grants_anything:
        granted = f"; compensation {compensation.points} points" + (
            f", coupon {compensation.coupon_value}" if compensation.coupon_value else "")
    # The note stays with its round in the history: a later round's note replaces the complaint's
    # `resolution_note`, and whoever reviews a complaint that came back reads what was tried before.
    kept = _kept(row, note)
    _move(uow, row, Action.RESOLVE, actor, now, detail=f"round {row.reopen_count}{granted}", note=kept)
    row.resolved_at = now
    row.resolution_note = kept
    if compensation.grants_anything:
        row.compensation_points = compensation.points
        row.coupon_value = compensation.coupon_value
        row.compensated_at = now
    _refresh_due(row)
    events.emit_resolved(uow, row, points=compensation.points, coupon_value=compensation.coupon_value, at=now, by=actor)


async def invite_to_survey(uow: UnitOfWork, settings: Settings, row: ComplaintRow, now: datetime) -> Invitation | None:
    """Every resolved complaint of a member gets one survey invitation (the first resolution makes
    it). An anonymous complaint gets none, nor one whose member was erased meanwhile: only the
    invitation's member may answer it, and an invitation nobody can answer would only lower the
    store's response rate (and ask for an SMS to a customer who is gone)."""
    if row.member_id is None or row.erased_at is not None:
        return None
    return await invite(
        uow, settings, source="complaint", source_ref=f"complaint:{row.id}", member_id=row.member_id,
        store_id=row.store_id, now=now,
    )


def close(uow: UnitOfWork, row: ComplaintRow, actor: str, now: datetime) -> None:
    _move(uow, row, Action.CLOSE, actor, now)
    row.closed_at = now
    _refresh_due(row)


async def reopen(uow: UnitOfWork, settings: Settings, row: ComplaintRow, actor: str, now: datetime, reason: str) -> None:
    # A complaint of an erased member reached its end once resolved: reopened, it would wait in a
    # queue and escalate for a customer nothing more can be done for (no compensation, nothing
    # written about them kept), so it is refused as anything more recorded about them is.
    await ensure_complaint_recordable(uow.session, row)
    _move(uow, row, Action.REOPEN, actor, now, detail=reason[:200])
    row.reopen_count += 1
    row.resolved_at = row.closed_at = None
    row.resolve_due_at = policy_of(settings).resolve_due(row.severity, now)
    _refresh_due(row)
    # Member events re-route open complaints only: while this one was resolved, the customer may
    # have changed manager or become VIP. Routed automatically, it goes where a new one would.
    if row.auto_assigned and row.member_id is not None:
        profile = await uow.session.get(MemberProfileRow, row.member_id)
        target = assignee_for(row.store_id, profile.tier if profile else None, profile.manager_id if profile else None)
        if target != row.assignee:
            assign(uow, row, target, "system", now, auto=True)
    events.emit_reopened(uow, row, at=now)


def assign(uow: UnitOfWork, row: ComplaintRow, assignee: str, actor: str, now: datetime, *, auto: bool = False) -> None:
    if Status(row.status) not in (Status.FILED, Status.ACKNOWLEDGED, Status.IN_PROGRESS):
        raise ComplaintConflict(f"cannot reassign a complaint that is {row.status}; reopen it first")
    if assignee == row.assignee:
        raise ComplaintConflict(f"the complaint is already assigned to {assignee}")
    record(uow, row, "assigned", actor, now, detail=f"{row.assignee} -> {assignee}")
    row.assignee = assignee
    row.auto_assigned = auto
    row.handled_by = None  # handed on: the new assignee takes it up
    row.updated_at = now


async def reassign(uow: UnitOfWork, row: ComplaintRow, assignee: str, actor: str, now: datetime) -> None:
    """Staff hand the complaint to a queue or an account manager who can work on it (domain/assignment.py)."""
    wanted = parse_assignee(assignee)
    known = False
    if wanted.staff_id is not None:
        known = (await uow.session.exec(
            select(MemberProfileRow.member_id).where(MemberProfileRow.manager_id == wanted.staff_id).limit(1)
        )).first() is not None
    check_reassignment(wanted, row.store_id, known_account_manager=known)
    assign(uow, row, assignee, actor, now)


def take(uow: UnitOfWork, row: ComplaintRow, actor: str, now: datetime) -> bool:
    """The caller takes the open complaint to work on it, from a colleague too (who may have gone
    home); False, changing nothing, if it is theirs already (a second click)."""
    if Status(row.status) not in OPEN:
        # Worded as the workflow words a refused step, so that the console says it in the person's language.
        why = "it is closed; reopen it first" if row.status == Status.CLOSED else "it is already resolved; reopen it first"
        raise ComplaintConflict(f"cannot take a complaint that is {row.status}: {why}")
    if row.handled_by == actor:
        return False
    record(uow, row, "taken", actor, now, detail=f"from {row.handled_by}" if row.handled_by else None)
    row.handled_by, row.updated_at = actor, now
    return True


def rate(uow: UnitOfWork, row: ComplaintRow, score: int, comment: str | None, actor: str, now: datetime) -> None:
    if row.status not in (Status.RESOLVED.value, Status.CLOSED.value):
        raise ComplaintConflict(f"only a resolved complaint can be rated; this one is {row.status}")
    if row.rated_at is not None:
        # In the chain's time, as every other moment a refusal names.
        raise ComplaintConflict(
            f"the handling was already rated on {row.rated_at.astimezone(uow.settings.zone).isoformat(timespec='minutes')}")
    row.rating, row.rating_comment, row.rated_at, row.updated_at = score, _kept(row, comment), now, now
    record(uow, row, "rated", actor, now, detail=f"{score}/5")
