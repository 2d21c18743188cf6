"""A past sale as `crm import-sales` brings it from a chain's old system, and what makes one
refused. The fields are the live till's (`POST /pos/v1/purchases`) and are validated by the same
shared types (store and transaction ids, card numbers, phones, sale lines, money), so a sale an
import accepts is one a till could have sent; what differs is that the customer is a card or a
phone given flat, and that a sale the old system kept only the total of may come without lines.
"""

import re
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from shared.cards import CardNumber
from shared.events.contracts import EARLIEST_SALE, SaleLineIn
from shared.events.contracts.common import written_out
from shared.events.contracts.pos import within_the_total
from shared.identifiers import StoreId, TxnId
from shared.money import Money
from shared.phones import Phone
from shared.text import Text, half_width
from shared.zones import in_zone

# A local time as Chinese systems export it and spreadsheets save it: 2019/3/1 10:15,
# 2019-3-1 9:05 or 2019/03/01 10:15:00, year first, so that it is never a day-month guess.
LOCAL_TIME = re.compile(r"(?P<year>[0-9]{4})(?P<sep>[/-])(?P<month>[0-9]{1,2})(?P=sep)(?P<day>[0-9]{1,2})"
                        r"[ T](?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2}))?")
LOCAL_TIME_PARTS = ("year", "month", "day", "hour", "minute", "second")
TIME_FORMS = ("2019-03-01T10:15:00+08:00, or without the offset (in --local-time-zone) 2019-03-01 10:15:00, "
              "2019-3-1 10:15 or 2019/3/1 10:15")
# Folded to ASCII (`shared.text.half_width`) in the fields that are codes, numbers and times; names,
# categories and the payment keep what they were written with.
HALF_WIDTH_FIELDS = ("store_id", "pos_txn_id", "occurred_at", "card_no", "total", "discount")  # a phone folds its own digits
HALF_WIDTH_LINE_FIELDS = ("sku", "qty", "unit_price", "amount")
# Per request: about the most a body of CRM_MAX_BODY_BYTES carries of sales of a few lines.
MAX_SALES_PER_BATCH = 5000


class PointsMode(StrEnum):
    NONE = "none"  # imported sales earn nothing
    RULE_AT_TIME = "rule-at-time"  # the earning rule in force at each sale's time


class RowStatus(StrEnum):
    IMPORTED = "imported"
    PRESENT = "present"  # this POS transaction is recorded already (an earlier import, or live)
    REJECTED = "rejected"


class ImportedSale(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store_id: StoreId
    pos_txn_id: TxnId
    # With its UTC offset; a time without one is taken in the import's local time zone if it
    # names one (`parse_sale`), else refused.
    occurred_at: datetime
    card_no: CardNumber | None = None
    phone: Phone | None = None
    lines: list[SaleLineIn] = Field(default_factory=list, max_length=500)
    # Before discounts; worked out from the lines when absent.
    total: Money | None = None
    # What the old system took off the total (promotions, coupons, member prices), as a live sale's
    # discounts: the customer paid `total - discount`, which is what counts as their spend and what
    # earns points, as at a till.
    discount: Money = Decimal("0.00")
    payment: Text = Field(default="", max_length=32)

    @model_validator(mode="before")
    @classmethod
    def _half_width(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        folded = {k: half_width(v) if k in HALF_WIDTH_FIELDS else v for k, v in data.items()}
        if isinstance(lines := data.get("lines"), list):
            folded["lines"] = [{k: half_width(v) if k in HALF_WIDTH_LINE_FIELDS else v for k, v in ln.items()}
                               if isinstance(ln, dict) else ln for ln in lines]
        return folded

    @field_validator("discount", mode="before")
    @classmethod
    def _none_taken_off(cls, value: Any) -> Any:
        # An export that writes every column gives `null` where nothing was taken off, as it does
        # for a `total` left to the lines.
        return Decimal("0.00") if value is None else value

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _local(cls, value: Any) -> Any:
        value = written_out(value)
        if isinstance(value, str) and (local := local_time(value)) is not None:
            return local
        return value

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime, info: ValidationInfo) -> datetime:
        if value.tzinfo is not None:
            return value
        zone: ZoneInfo | None = (info.context or {}).get("local_time_zone")
        if zone is None:
            raise PydanticCustomError("timezone_aware", "Input should have timezone info")
        return in_zone(value, zone)

    @model_validator(mode="after")
    def _consistent(self) -> "ImportedSale":
        if self.card_no is not None and self.phone is not None:
            raise ValueError("phone: give a card number or a phone, not both")
        if self.lines:
            line_sum = sum((ln.amount for ln in self.lines), Decimal("0.00"))
            if self.total is None:
                self.total = line_sum
            elif self.total != line_sum:
                raise ValueError(f"total: {self.total} is not the sum of the lines ({line_sum})")
        elif self.total is None:
            raise ValueError("lines: give the sale's lines or its total")
        within_the_total(self.discount, self.total, "discount")
        return self

    @property
    def amount(self) -> Decimal:
        assert self.total is not None, "set by the validator"
        return self.total

    @property
    def paid(self) -> Decimal:
        return self.amount - self.discount


def parse_sale(raw: Any, now: datetime, local_time_zone: ZoneInfo | None = None) -> ImportedSale | str:
    """The sale, or why it is refused as "field: reason" (the first problem found). A time without
    its UTC offset is taken in `local_time_zone` when there is one."""
    try:
        sale = ImportedSale.model_validate(raw, context={"local_time_zone": local_time_zone})
    except ValidationError as exc:
        return reason_of(exc)
    if sale.occurred_at > now:
        return "occurred_at: later than now; an import brings past sales"
    if sale.occurred_at < EARLIEST_SALE:
        # A misread date rather than a sale; and a year-1 time cannot even be turned into UTC.
        return "occurred_at: before 1970, not a sale of a till"
    return sale


# "total: 99.00 is not the sum ...": a message that begins with a field's name. Not a moment's
# "0001-01-01T00:00:00 is outside ...", whose first word holds a colon too.
NAMES_ITS_FIELD = re.compile(r"[a-z_][a-z0-9_.]*: ")


def reason_of(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if NAMES_ITS_FIELD.match(message):
        return message  # a rule of the whole sale, which names its field itself
    written = error.get("input")
    if error["type"] == "timezone_aware":
        message = ("a time needs its UTC offset, e.g. 2019-03-01T10:15:00+08:00, or the import its local time zone "
                   "(--local-time-zone)")
    elif error["type"] in ("datetime_parsing", "datetime_from_date_parsing") and isinstance(written, str):
        message = f"{written[:40]!r} is not a date and time as the import reads them: {TIME_FORMS}"
    elif error["type"] == "decimal_parsing" and isinstance(written, str):
        # As a spreadsheet saves a cell formatted as currency (¥1,234.50): "1,234" would be a guess
        # between a thousand and a decimal comma, so amounts are plain numbers.
        message = (f"{written[:40]!r} is not a number: write digits and a decimal point alone, without a currency "
                   "sign (¥) or thousands separators, e.g. 1234.50")
    return f"{field}: {message}" if field else message


def local_time(value: str) -> datetime | None:
    """A time written in one of the local forms (`LOCAL_TIME`), without its zone; None when the
    text is in no such form. A form holding no real moment (2019/2/30 10:00) is a ValueError."""
    if (found := LOCAL_TIME.fullmatch(value.strip())) is None:
        return None
    year, month, day, hour, minute, second = (int(found[name] or 0) for name in LOCAL_TIME_PARTS)
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise ValueError(f"occurred_at: {value!r} is not a date and time ({exc})") from None


_MOMENT = TypeAdapter(datetime)


def sale_time(value: str) -> datetime:
    """A sale's time as the import reads it, before a local one is put in its zone: a local form,
    or ISO 8601 as pydantic reads it. A ValueError (pydantic's ValidationError is one) when it is
    neither."""
    return local if (local := local_time(value)) is not None else _MOMENT.validate_python(value)


def fingerprint(sale: ImportedSale) -> int:
    """What tells two sales under one store and transaction id apart within one import (a file, a
    batch): its customer, moment, amount, discount, payment and lines. Compared as values, so a repeat that
    spells them differently (50 and 50.00, 10:15+08:00 and 02:15Z) is still the same sale.

    A hash, so that a reader of a long file keeps a number per transaction rather than the sale;
    Python's hash of text differs between processes, so it is compared within one run, never kept."""
    lines = tuple((ln.sku, ln.name, ln.category, ln.qty, ln.unit_price, ln.amount) for ln in sale.lines)
    return hash((sale.card_no, sale.phone, sale.occurred_at, sale.amount, sale.discount, sale.payment, lines))


def conflicting_repeat(earlier: str) -> str:
    """Why a sale under the store and transaction id of `earlier` ("line 12 of this file") is
    refused when it differs from it: answered present, it would be lost without a word."""
    return f"pos_txn_id: conflicts with {earlier} (same store and transaction id, different sale)"


def unknown_customer(sale: ImportedSale) -> str:
    if sale.card_no is not None:
        return "card_no: no member has this card"
    return "phone: no member has this phone"
