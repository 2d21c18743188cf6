"""What a points ledger entry says to the member, in Chinese and English: the one place it is worded.

Points writes each entry's `reason` for staff and the audit trail, in English and with ids
("purchase S001/T1001", "gift rice-cooker at S001"). The app shows `description` instead, built
from the entry's kind and what points keeps of its source, `source_ref`:

- earn, `sale:<store>/<txn>`: a purchase, or an imported one that earns nothing;
- reverse, `return:<store>/<refund>`: a return taking back what the goods earned;
- redeem and cancel_redeem, `redemption:<id>`: a gift redeemed, or its reservation cancelled;
- adjust: staff corrected the balance;
- bonus: `bonus:<key>` staff's, `bulk:<job>` a promotion's, `complaint:<id>` a complaint's compensation;
- expire, `expiry:<valid until>@<run day>`: points past their last valid day.

A few facts points keeps only in the reason (the gift, the sale a return is of, a sale imported
without points or below the minimum, an earning capped) are read with `shared.ledger_reasons`,
where points' wording of them is kept. A kind or a source this module does not know is described
as a change of points, never refused: the ledger must show.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared import ledger_reasons

GENERIC = ("积分变动", "Points change")
BONUS_BY_SOURCE = {
    "bonus": ("赠送积分", "Bonus points"),
    "bulk": ("活动赠送积分", "Bonus points from a promotion"),
    "complaint": ("投诉补偿积分", "Compensation for your complaint"),
}
ADJUSTMENT = ("积分调整", "Points adjustment")
_EXPIRY = re.compile(r"expiry:(\d{4}-\d{2}-\d{2})@")


@dataclass(frozen=True)
class Names:
    """Display names the app knows: stores by id, gifts by id as (Chinese, English)."""

    stores: Mapping[str, str]
    gifts: Mapping[str, tuple[str, str]]

    def store(self, store_id: str) -> str:
        return self.stores.get(store_id) or store_id

    def gift(self, gift_id: str) -> tuple[str, str]:
        return self.gifts.get(gift_id) or (gift_id, gift_id)


def _source(entry: Mapping[str, Any]) -> tuple[str, str]:
    kind, _, rest = str(entry.get("source_ref") or "").partition(":")
    return kind, rest


def _store_and_ref(rest: str) -> tuple[str, str] | None:
    store_id, slash, ref = rest.partition("/")
    return (store_id, ref) if slash and store_id and ref else None


def _gift_of(entry: Mapping[str, Any]) -> tuple[str, str | None] | None:
    said = ledger_reasons.read(str(entry.get("reason") or ""))
    if entry.get("entry_type") == "redeem" and said is not None and said.kind == "gift":
        return said.gift, said.store
    if entry.get("entry_type") == "cancel_redeem" and said is not None and said.kind == "cancelled_gift":
        return said.gift, None
    return None


def named(entries: Iterable[Mapping[str, Any]]) -> tuple[set[str], set[str]]:
    """The store ids and gift ids the entries name, for the caller to look their names up."""
    stores: set[str] = set()
    gifts: set[str] = set()
    for entry in entries:
        kind, rest = _source(entry)
        if kind in ("sale", "return") and (parts := _store_and_ref(rest)):
            stores.add(parts[0])
        if gift := _gift_of(entry):
            gifts.add(gift[0])
            if gift[1]:
                stores.add(gift[1])
    return stores, gifts


def describe(entry: Mapping[str, Any], names: Names) -> tuple[str, str]:
    """`(Chinese, English)` of one entry, as points answers it."""
    entry_type = entry.get("entry_type")
    kind, rest = _source(entry)
    reason = str(entry.get("reason") or "")
    if entry_type == "earn" and kind == "sale" and (sale := _store_and_ref(rest)):
        store, txn = names.store(sale[0]), sale[1]
        notes = ledger_reasons.read(reason) or ledger_reasons.Reason("purchase")
        if notes.imported_without_points:
            return f"导入的购物记录：{store}，小票 {txn}（不积分）", f"Imported purchase at {store}, receipt {txn} (earns no points)"
        zh, en = f"购物：{store}，小票 {txn}", f"Purchase at {store}, receipt {txn}"
        if notes.below_minimum:
            zh, en = zh + "（未达积分最低消费金额）", en + " (below the minimum amount that earns points)"
        if notes.capped_at is not None:
            zh, en = zh + "（单笔积分已达上限）", en + " (points capped for one purchase)"
        return zh, en
    if entry_type == "reverse" and kind == "return" and (refund := _store_and_ref(rest)):
        store, refund_id = names.store(refund[0]), refund[1]
        zh, en = f"退货：{store}，退货单 {refund_id}", f"Return at {store}, refund {refund_id}"
        said = ledger_reasons.read(reason)
        if said is not None and said.kind == "return" and (sale := _store_and_ref(said.sale)):
            zh, en = f"{zh}，原小票 {sale[1]}", f"{en}, of receipt {sale[1]}"
        return zh, en
    if entry_type in ("redeem", "cancel_redeem"):
        gift = _gift_of(entry)
        gift_zh, gift_en = names.gift(gift[0]) if gift else ("礼品", "a gift")
        if entry_type == "cancel_redeem":
            return f"取消兑换，积分退回：{gift_zh}", f"Gift reservation cancelled, points returned: {gift_en}"
        if gift and gift[1]:
            store = names.store(gift[1])
            return f"兑换礼品：{gift_zh}（{store}）", f"Gift redeemed: {gift_en} ({store})"
        return f"兑换礼品：{gift_zh}", f"Gift redeemed: {gift_en}"
    if entry_type == "adjust":
        return ADJUSTMENT
    if entry_type == "bonus":
        return BONUS_BY_SOURCE.get(kind, BONUS_BY_SOURCE["bonus"])
    if entry_type == "expire":
        if until := _EXPIRY.match(str(entry.get("source_ref") or "")):
            return f"积分过期（有效期至 {until.group(1)}）", f"Points expired (valid until {until.group(1)})"
        return "积分过期", "Points expired"
    return GENERIC
