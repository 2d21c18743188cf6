"""Earning rules: versions (admin, audited) and the basket preview for tills."""

import hashlib
from datetime import timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Response, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy import func
from sqlmodel import col, select

from points.adapters.rules import load_rules, rule_body, rule_from_row
from points.adapters.tables import AccountRow, EarningRuleRow
from points.api.schemas import EarningRuleIn, EarningRulePublic, PreviewIn, PreviewOut
from points.domain.earning import EarningRule, earn_for_sale, rule_in_force
from shared.authorize import Allowed
from shared.db import advisory_lock, take_advisory_locks
from shared.deps import UowDep
from shared.errors import Conflict
from shared.idempotency import OptionalIdempotencyKey
from shared.member_directory import member_facts
from shared.policy import Grant
from shared.unit_of_work import UnitOfWork

# The key of the advisory lock that numbers rule versions ("rule"), the same in every replica.
RULE_VERSIONS = 0x72756C65

router = APIRouter(prefix="/v1", tags=["earning rules"])

# Clock skew between the admin's screen and the server must not make "from now" a past time.
PAST_TOLERANCE = timedelta(minutes=5)


def _public(row: EarningRuleRow) -> EarningRulePublic:
    rule = rule_from_row(row)
    return EarningRulePublic(
        version=rule.version, effective_from=rule.effective_from, points_per_yuan=rule.points_per_yuan,
        channel_rates=dict(rule.channel_rates), store_rates=dict(rule.store_rates),
        category_multipliers=dict(rule.category_multipliers), min_sale_amount=rule.min_sale_amount,
        reason=row.reason, created_by=row.created_by, created_at=row.created_at,
    )


@router.get("/earning-rules", summary="Every rule version, oldest first, with who wrote it and why")
async def list_rules(uow: UowDep, _: Annotated[Grant, Allowed("points.rule.read")]) -> list[EarningRulePublic]:
    rows = (await uow.session.exec(select(EarningRuleRow).order_by(col(EarningRuleRow.version)))).all()
    return [_public(r) for r in rows]


@router.post("/earning-rules", status_code=status.HTTP_201_CREATED, summary="Add a rule version (admin)",
             responses={200: {"description": "A retry with the same Idempotency-Key: the version it added"},
                        409: {"description": "The Idempotency-Key was already used for another rule"}})
async def add_rule(body: EarningRuleIn, uow: UowDep, grant: Annotated[Grant, Allowed("points.rule.write")],
                   response: Response, idempotency_key: OptionalIdempotencyKey = None) -> EarningRulePublic:
    """A new version replaces the whole rule from `effective_from` on. With an `Idempotency-Key`
    (the console sends one with every form), the same key and body answer the version the first
    request added (200) instead of adding an identical one; the key with another body is 409."""
    now = uow.now()
    if body.effective_from is not None and body.effective_from < now - PAST_TOLERANCE:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("body", "effective_from"), "input": None,
              "msg": "must not be in the past: sales already booked keep the rules they were booked with"}]
        )
    # "From now" sent by a screen whose clock is a little behind starts now, not minutes ago: the
    # sales of those minutes booked already keep the old version, so a start in the past would
    # price the rest of them (a backlog, a late till) by the new one, and the list would show a
    # version in force over sales it never priced.
    effective_from = max(body.effective_from or now, now)
    multipliers = dict(body.category_multipliers)
    multipliers.update({category: Decimal(0) for category in body.excluded_categories})
    # Versions are numbered in turn: two rules added at once would otherwise both take the next.
    # The lock also makes a retry under the same key wait for the first to commit, and find it.
    await take_advisory_locks(uow.session, advisory_lock(RULE_VERSIONS))
    digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    if idempotency_key is not None and (earlier := await _added_under(uow, grant.principal.subject, idempotency_key)):
        if earlier.request_digest != digest:
            raise Conflict(f"Idempotency-Key {idempotency_key} was already used for another rule (version {earlier.version}); "
                           "a new rule needs a new key")
        response.status_code = status.HTTP_200_OK
        return _public(earlier)
    latest = (await uow.session.exec(select(func.max(EarningRuleRow.version)))).one() or 0
    rule = EarningRule(
        version=latest + 1, effective_from=effective_from, points_per_yuan=body.points_per_yuan,
        channel_rates=dict(body.channel_rates.items()), store_rates=body.store_rates, category_multipliers=multipliers,
        min_sale_amount=body.min_sale_amount,
    )
    row = EarningRuleRow(
        version=rule.version, effective_from=rule.effective_from, body=rule_body(rule), reason=body.reason,
        created_by=grant.principal.subject, created_at=now, idempotency_key=idempotency_key,
        request_digest=digest if idempotency_key is not None else None,
    )
    uow.session.add(row)
    await uow.session.flush()
    return _public(row)


async def _added_under(uow: UnitOfWork, admin: str, key: str) -> EarningRuleRow | None:
    found = await uow.session.exec(
        select(EarningRuleRow).where(EarningRuleRow.created_by == admin, EarningRuleRow.idempotency_key == key))
    return found.first()


@router.post("/earning/preview", summary="Points a basket would earn now; books nothing")
async def preview(body: PreviewIn, uow: UowDep, grant: Annotated[Grant, Allowed("points.preview")]) -> PreviewOut:
    # A till previews for its own store. The customer is not checked against the till's store:
    # customers shop in every store, and the answer says only whether the card (or the member the
    # gateway found by phone) is known and its channel (no balance, no ledger, no member id).
    grant.ensure_store(body.store_id)
    channel: str = body.channel or "retail"
    known = False
    account = None
    if body.card_no is not None:
        account = (await uow.session.exec(select(AccountRow).where(AccountRow.card_no == body.card_no))).first()
    elif body.member_id is not None:
        # A member members knows but points has no account for yet (just registered) answers as
        # an unknown card does: the account opens a moment later, from `member_registered`. So
        # does an erased member's account, kept for the ledger, as their removed card does.
        facts = await member_facts(uow.session, body.member_id)
        if facts is None or facts.erased_at is None:
            account = await uow.session.get(AccountRow, body.member_id)
    if account is not None:
        channel, known = account.channel, True
    at = body.occurred_at or uow.now()
    total = sum((ln.amount for ln in body.lines), Decimal("0.00"))
    earning = earn_for_sale(
        rule_in_force(await load_rules(uow.session), at), store_id=body.store_id, channel=channel, total=total, lines=body.lines,
        discount=body.discount,
    )
    return PreviewOut(
        points=earning.points, eligible_amount=earning.eligible_amount.quantize(Decimal("0.01")), rate=earning.rate,
        rule_version=earning.rule_version, channel=channel, below_minimum=earning.below_minimum, member_known=known,
    )
