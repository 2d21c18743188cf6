"""Booking what sales earn and what returns take back, from members' events.

Sales are booked a batch at a time (one account look-up and multi-row inserts per batch); the
per-event handler is the same code with a batch of one. A return whose sale has not been booked
yet waits in `pending_return` and is applied in the transaction that books the sale.
"""

import logging
from decimal import Decimal

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from points.adapters.repository import ACCOUNTS, AccountRepository
from points.adapters.rules import load_rules
from points.adapters.tables import LedgerRow, PendingReturnRow, SaleEarningRow, table_of
from points.domain.earning import EarningRule, earn_for_sale, rule_in_force, without_points
from points.domain.expiry import expired_from
from points.domain.model import EntryType, PointsAccount, Source
from points.domain.returns import SaleEarned, points_earned_by, points_to_reverse
from points.service_layer.expiry import member_entries
from shared import ledger_reasons as reasons
from shared.consumer import Delivery
from shared.db import insert_into, insert_many, insert_or_skip, one_of
from shared.events import contracts as c
from shared.integers import POINTS_MAX
from shared.member_directory import erased_among
from shared.money import CENT
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

_ZERO = Decimal("0.00")

SALES = table_of(SaleEarningRow)
PENDING = table_of(PendingReturnRow)


def sale_ref(store_id: str, pos_txn_id: str) -> str:
    return f"{store_id}/{pos_txn_id}"


async def on_member_registered(uow: UnitOfWork, delivery: Delivery) -> None:
    await on_members_registered(uow, [delivery])


async def on_member_profile_changed(uow: UnitOfWork, delivery: Delivery) -> None:
    """Staff changed the member's channel (or card, store or community): gifts are priced at the
    new channel from now on, and the till's preview finds the account by the new card (a lost one
    finds nothing); what was earned and redeemed stays as it was. No account yet: the
    registration, which follows on the same partition, opens it with what it carries."""
    changed: c.MemberProfileChangedV1 = delivery.payload  # type: ignore[assignment]
    values: dict[str, object] = {"channel": changed.channel, "updated_at": uow.now()}
    # Events of before cards were carried name none: the card did not change. An erased member's
    # card went with the erasure: a late or replayed event does not bring it back.
    if changed.card_no is not None and not await erased_among(uow.session, [changed.member_id]):
        values["card_no"] = changed.card_no
    await uow.session.exec(ACCOUNTS.update().where(ACCOUNTS.c.member_id == changed.member_id).values(**values))


async def on_members_registered(uow: UnitOfWork, deliveries: list[Delivery]) -> None:
    """Opens the accounts of new members, in one upsert: an account opened by an earlier sale
    (with the default channel) takes the member's channel and card."""
    now = uow.now()
    rows: dict[str, dict[str, object]] = {}
    for d in deliveries:
        member: c.MemberRegisteredV1 = d.payload  # type: ignore[assignment]
        # A member registered twice in the run: the later event wins, as one after the other.
        rows[member.member_id] = {"member_id": member.member_id, "channel": member.channel, "card_no": member.card_no,
                                  "balance": 0, "opened_at": now, "updated_at": now}
    if not rows:
        return
    for member_id in await erased_among(uow.session, rows):  # a late or replayed registration
        rows[member_id]["card_no"] = None
    statement, params = insert_many(uow.session, ACCOUNTS, list(rows.values()))
    await uow.session.exec(statement.on_conflict_do_update(
        index_elements=[ACCOUNTS.c.member_id],
        set_={"channel": statement.excluded.channel, "card_no": statement.excluded.card_no,
              "updated_at": statement.excluded.updated_at},
    ), params=params)


async def on_purchase_attributed(uow: UnitOfWork, delivery: Delivery) -> None:
    await on_purchases_attributed(uow, [delivery])


async def on_purchases_attributed(uow: UnitOfWork, deliveries: list[Delivery]) -> None:
    session = uow.session
    sales: dict[str, c.PurchaseAttributedV1] = {}
    for d in deliveries:
        sale: c.PurchaseAttributedV1 = d.payload  # type: ignore[assignment]
        # The same sale under two event ids (a POS resending it): the first one wins.
        sales.setdefault(sale_ref(sale.store_id, sale.pos_txn_id), sale)
    repo = AccountRepository(session, uow.now())
    accounts = await repo.lock_many(s.member_id for s in sales.values())
    rules = await load_rules(session)
    earned_rows, earnings = [], {}
    for ref, sale in sales.items():
        # The version in force at the sale's own time, for a live sale and an imported one alike.
        rule = rule_in_force(rules, sale.occurred_at)
        if sale.earns_points:
            earning = earn_for_sale(
                rule, store_id=sale.store_id, channel=accounts[sale.member_id].channel,
                total=sale.total, discount=sale.discount, lines=sale.lines,
            )
        else:
            earning = without_points(rule, total=sale.total, lines=sale.lines)
        earnings[ref] = earning
        earned_rows.append(
            {
                "sale_ref": ref, "member_id": sale.member_id, "sale_event_id": sale.sale_event_id,
                "rule_version": earning.rule_version, "eligible_amount": earning.eligible_amount.quantize(CENT),
                "points": earning.points, "returned_eligible": _ZERO, "reversed_points": 0, "occurred_at": sale.occurred_at,
            }
        )
    # Recorded first, booked for what was recorded: the unique key says which sales are new, in
    # one statement no plan can turn into a scan (a look-up first could, on a fresh database).
    fresh = set(await insert_or_skip(session, SALES, earned_rows, returning="sale_ref"))
    if len(fresh) < len(sales):
        log.info("%d sale(s) already booked under other event ids", len(sales) - len(fresh))
    todo = {ref: sale for ref, sale in sales.items() if ref in fresh}
    if not todo:
        return
    for ref, sale in todo.items():
        earning = earnings[ref]
        if earning.capped:
            log.warning("sale %s (event %s) of member %s earns more than %d points: booked at that cap",
                        ref, sale.sale_event_id, sale.member_id, POINTS_MAX)
        reason = reasons.purchase(ref, earns_points=sale.earns_points, below_minimum=earning.below_minimum,
                                  capped_at=POINTS_MAX if earning.capped else None)
        accounts[sale.member_id].earn(
            earning.points, reason=reason, source=Source(ref=f"sale:{ref}", event_id=sale.sale_event_id), at=sale.occurred_at)
    await _apply_waiting_returns(session, [s.sale_event_id for s in todo.values()], accounts, rules)
    await repo.save_many(accounts.values())


async def on_return_attributed(uow: UnitOfWork, delivery: Delivery) -> None:
    ret: c.ReturnAttributedV1 = delivery.payload  # type: ignore[assignment]
    session = uow.session
    earned = (
        await session.exec(select(SaleEarningRow).where(SaleEarningRow.sale_event_id == ret.sale_event_id).with_for_update())
    ).first()
    if earned is None:
        log.info("return %s arrived before its sale %s was booked; kept until it is", ret.refund_id, ret.sale_event_id)
        await session.exec(
            insert_into(session, PENDING).on_conflict_do_nothing(),
            params=[{"refund_ref": sale_ref(ret.store_id, ret.refund_id), "sale_event_id": ret.sale_event_id,
              "member_id": ret.member_id, "payload": ret.model_dump(mode="json"), "received_at": uow.now()}],
        )
        return
    repo = AccountRepository(session, uow.now())
    accounts = await repo.lock_many([earned.member_id], booked=[(EntryType.REVERSE, _return_source(ret))])
    expired = await _expired_of_sale(uow, earned)
    _reverse(accounts[earned.member_id], earned, ret, await load_rules(session), expired=expired)
    session.add(earned)
    await repo.save_many(accounts.values())


def _return_source(ret: c.ReturnAttributedV1) -> str:
    return f"return:{sale_ref(ret.store_id, ret.refund_id)}"


async def _expired_of_sale(uow: UnitOfWork, earned: SaleEarningRow) -> int:
    """What of the sale's points the expiry job has taken (`domain.expiry.expired_from`), read under
    the account's lock. Replaying the ledger is only needed once something of the member has expired."""
    session = uow.session
    any_expired = (await session.exec(select(LedgerRow.id).where(
        LedgerRow.member_id == earned.member_id, LedgerRow.entry_type == EntryType.EXPIRE.value).limit(1))).first()
    if any_expired is None or earned.points == 0:
        return 0
    entries = await member_entries(session, earned.member_id)
    return expired_from(entries, f"sale:{earned.sale_ref}", uow.settings.expiry_policy, uow.settings.zone)


def _reverse(
    account: PointsAccount, earned: SaleEarningRow, ret: c.ReturnAttributedV1, rules: list[EarningRule], *, expired: int = 0
) -> None:
    """Books the reversal of one return against its sale's earning (once per return), capped at
    what is still open of that earning (`domain.returns`). `expired`: what of the sale's points the
    expiry job took; a return waiting for its sale is applied as the sale is booked, when none has."""
    source = Source(ref=_return_source(ret), event_id=ret.refund_event_id)
    if account.has_booked(EntryType.REVERSE, source.ref):
        log.info("return %s already reversed", source.ref)
        return
    rule = next((r for r in rules if r.version == earned.rule_version), None) or rule_in_force(rules, earned.occurred_at)
    returned = rule.eligible_amount(ret.lines)
    state = SaleEarned(earned.points, earned.eligible_amount, earned.returned_eligible, earned.reversed_points, expired)
    points = points_to_reverse(state, returned)
    reason = reasons.sale_return(sale_ref(ret.store_id, ret.refund_id), earned.sale_ref)
    if points < (goods_earned := points_earned_by(state, returned)):
        # The ledger says why less came back than the goods earned (no schema change needed).
        log.info("return %s of sale %s: %d of the %d points the goods earned taken back; %d of the sale's had expired",
                 source.ref, earned.sale_ref, points, goods_earned, expired)
        reason = reasons.sale_return(sale_ref(ret.store_id, ret.refund_id), earned.sale_ref,
                                     goods_earned=goods_earned, expired=expired)
    account.reverse(points, reason=reason, source=source, at=ret.occurred_at, reverses=f"sale:{earned.sale_ref}")
    earned.returned_eligible = min(earned.eligible_amount, earned.returned_eligible + returned).quantize(CENT)
    earned.reversed_points += points


async def _apply_waiting_returns(
    session: AsyncSession, sale_event_ids: list[str], accounts: dict[str, PointsAccount], rules: list[EarningRule]
) -> None:
    waiting = (
        await session.exec(
            select(PendingReturnRow).where(one_of(session, PENDING.c.sale_event_id, sale_event_ids)).order_by(PendingReturnRow.received_at)  # type: ignore[arg-type]
        )
    ).all()
    if not waiting:
        return
    earned_by_event = {
        row.sale_event_id: row
        for row in (
            await session.exec(select(SaleEarningRow).where(SaleEarningRow.sale_event_id.in_([w.sale_event_id for w in waiting])))  # type: ignore[attr-defined]
        ).all()
    }
    for row in waiting:
        ret = c.ReturnAttributedV1.model_validate(row.payload)
        earned = earned_by_event[row.sale_event_id]
        _reverse(accounts[earned.member_id], earned, ret, rules)
        session.add(earned)
        await session.delete(row)
