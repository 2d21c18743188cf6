"""Rules of POS entry that need no I/O."""

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, TypeAdapter, ValidationError

from shared.events.contracts import SaleLine
from shared.events.contracts.pos import SoldSku, quantities_by_sku

# Fields a sale or return body gained after they were already being accepted. Left out of the
# fingerprint while empty, so that a sale or return accepted before they existed and retried after
# the upgrade is still recognised as the same one rather than refused as different content.
_ADDED_LATER = ("coupons", "discounts", "sale_store_id")
_MOMENT = TypeAdapter(datetime)


# The digest kept for a sale brought in by `crm import-sales` rather than posted by a till: no
# fingerprint of a POS body (those are 64 hex digits), so it never matches a till's sale.
IMPORTED = "imported"
# The digest kept for a sale a till published straight to Kafka naming its customer by a phone's
# digest (`phone_hmac`): the request that would have made it names the phone, which cannot be told
# from its digest, so no till's request under its id is taken for the same sale.
PUBLISHED = "published"


def canonical_quantity(qty: Decimal) -> str:
    """One spelling of a quantity however the till printed it: 2, "2.000" and 2.0 are "2", and
    "0.5120" is "0.512". Money gets this from its type (two decimals); a quantity keeps its own
    form in the event, so the fingerprint and the messages below spell it this way instead. An
    integral quantity is spelt as the integer a till sending 2 always produced, so that the
    fingerprints of sales accepted before this rule existed stay the same for the common case;
    only a sale accepted then with a quantity printed with trailing zeros (2.0, "0.510") and
    retried after the upgrade is taken for different content."""
    return format(qty.normalize(), "f")


def payload_digest(body: BaseModel, zone: ZoneInfo) -> str:
    """Fingerprint of a POS request, to tell an honest retry from a different sale under the same id.
    Its `occurred_at` counts as the moment it names, spelt in the chain's `zone`: a retry writing the
    same time with another UTC offset (a till whose time zone setting changed) is the same sale. The
    tills write the chain's offset, so the fingerprints kept before this rule stay the same; only a
    sale accepted then with another offset and retried after the upgrade is taken for different content."""
    data = body.model_dump(mode="json")
    data["occurred_at"] = _MOMENT.dump_python(body.occurred_at.astimezone(zone), mode="json")  # type: ignore[attr-defined]
    for name in _ADDED_LATER:
        if name in data and not data[name]:
            del data[name]
    for line in data.get("lines", ()):  # a sale's and a return's lines alike
        line["qty"] = canonical_quantity(Decimal(line["qty"]))
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def request_digest(model: type[BaseModel], data: dict[str, Any], zone: ZoneInfo) -> str:
    """The fingerprint (`payload_digest`) a sale or return a till published straight to Kafka
    would have had as a request to the API, so that the same one posted (a till falling back to
    HTTP) is answered as a retry, and another is refused; `PUBLISHED` for an event no request
    could have made (refused by the API's stricter reading)."""
    try:
        return payload_digest(model.model_validate(data), zone)
    except ValidationError:
        return PUBLISHED


def refundable(total: Decimal, refunded: Decimal) -> Decimal:
    return total - refunded


def taken_back(returned: Mapping[str, Decimal], lines: Iterable[SaleLine]) -> dict[str, Decimal]:
    """What the sale's returns took back of each sku once these lines are returned too."""
    after = dict(returned)
    for sku, qty in quantities_by_sku(lines).items():
        after[sku] = after.get(sku, Decimal(0)) + qty
    return after


def before_sale_problem(returned_at: datetime, sold_at: datetime) -> str | None:
    """Why a return cannot be dated `returned_at`, or None: goods come back after they were sold,
    and a return dated earlier would count against spend windows its sale is not in."""
    if returned_at < sold_at:
        # The sale's time in the return's own offset: kept in UTC, it read as a time after the
        # return's to a till writing local time ("01:00+08:00, before the sale's 02:15+00:00").
        return f"is {returned_at.isoformat()}, before the sale's time {sold_at.astimezone(returned_at.tzinfo).isoformat()}"
    return None


def amounts_taken_back(returned: Mapping[str, Decimal], lines: Iterable[SaleLine]) -> dict[str, Decimal]:
    """What the sale's returns took back of each sku in money once these lines are returned too."""
    after = dict(returned)
    for line in lines:
        after[line.sku] = after.get(line.sku, Decimal(0)) + line.amount
    return after


_CENT = Decimal("0.01")


def returnable_amount(sold_amount: Decimal, sold_qty: Decimal, qty_back: Decimal) -> Decimal:
    """What the returns of a sku may take back in all once `qty_back` of the `sold_qty` sold for
    `sold_amount` has come back: its pro-rata share, rounded up to the cent. Held cumulatively (every
    return of the sale together, not each return on its own), so the shares of several parts never
    add up to more than a cent above the share of their sum, and the part bringing back the last of
    the sku may always take what is left of its amount, however the earlier parts were rounded or
    however little they took (3 kg sold for 10.00, returned 1 kg at a time: 3.34, then up to
    6.67 in all, then the rest of 10.00)."""
    if qty_back >= sold_qty:
        return sold_amount
    return min(sold_amount, (sold_amount * qty_back / sold_qty).quantize(_CENT, rounding=ROUND_CEILING))


def return_lines_problem(
    lines: Iterable[SaleLine], sold: Mapping[str, Decimal], returned: Mapping[str, Decimal], sale: str,
    *, sold_as: Mapping[str, SoldSku] | None = None, returned_amounts: Mapping[str, Decimal] | None = None,
) -> tuple[int, str, str] | None:
    """Why a return's lines do not fit its sale, as (line index, field, message), or None. `sold`
    is what the sale sold of each sku, `returned` what its earlier returns took back. Points weigh a
    return by its lines' categories and amounts, so a line the sale never had, a sku under another
    category than the sale's, more of a sku than is left of it, or more money for it than that many
    units were sold for, would let a till choose which points come back; the sale's total alone
    cannot tell. `sold_as` is the category and amount of each sku (`sold_skus`) and
    `returned_amounts` what earlier returns took back of each in money; without `sold_as` (a sale
    accepted before the gateway kept them, an imported sale) lines are held to sku and quantity only."""
    taking: dict[str, Decimal] = {}  # of each sku, this return's lines so far
    paying: dict[str, Decimal] = {}  # and their amounts
    for i, line in enumerate(lines):
        if line.sku not in sold:
            return i, "sku", f"sku {line.sku} is not in sale {sale}"
        terms = sold_as.get(line.sku) if sold_as is not None else None
        if terms is not None and line.category not in terms.categories:
            named = " or ".join(f'"{category}"' for category in terms.categories)
            return i, "category", (
                f'is "{line.category}", but sale {sale} sold {line.sku} as {named}: a return takes back what the sale sold')
        taking[line.sku] = taking.get(line.sku, Decimal(0)) + line.qty
        earlier = returned.get(line.sku, Decimal(0))
        if taking[line.sku] > sold[line.sku] - earlier:
            left = sold[line.sku] - earlier
            return i, "qty", (
                f"returns {canonical_quantity(taking[line.sku])} of sku {line.sku}, but sale {sale} sold "
                f"{canonical_quantity(sold[line.sku])} and {canonical_quantity(earlier)} already returned: "
                f"at most {canonical_quantity(left)} can come back"
            )
        if terms is None:
            continue
        paying[line.sku] = paying.get(line.sku, Decimal(0)) + line.amount
        earlier_paid = (returned_amounts or {}).get(line.sku, Decimal("0.00"))
        may = returnable_amount(terms.amount, sold[line.sku], earlier + taking[line.sku]) - earlier_paid
        if paying[line.sku] > may:
            return i, "amount", (
                f"returns {paying[line.sku]} for {canonical_quantity(taking[line.sku])} of sku {line.sku}, but sale "
                f"{sale} sold {canonical_quantity(sold[line.sku])} for {terms.amount} and its earlier returns took "
                f"{canonical_quantity(earlier)} for {earlier_paid}: at most {max(may, Decimal('0.00'))} can come back for it"
            )
    return None


def future_time_problem(occurred_at: datetime, now: datetime, skew: timedelta) -> str | None:
    """Why a sale or return time cannot be accepted, or None. A till's clock may run a little
    ahead (the allowed skew); a time beyond that is a wrong clock or a wrong field, and accepting
    it would put the purchase ahead of every later one and skew spend windows and expiry."""
    if occurred_at > now + skew:
        return f"is {occurred_at.isoformat()}, in the future beyond the allowed clock skew of {skew}"
    return None
