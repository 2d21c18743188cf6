"""Column types that keep Decimal exact on every database.

SQLite has no decimal type (SQLAlchemy would round-trip Numeric through float), so amounts are
stored as whole units of their scale (fen for CNY, thousandths for quantities) in a BIGINT and come
back as Decimal. SUM() over such a column stays exact; wrap it with `type_coerce(..., MoneyColumn())`.
The pydantic type of amounts in requests and events is `shared.money.Money`.
"""

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class ScaledDecimal(TypeDecorator[Decimal]):
    impl = BigInteger
    cache_ok = True
    scale = 2

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value).scaleb(self.scale)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.scale).quantize(Decimal(1).scaleb(-self.scale))


class MoneyColumn(ScaledDecimal):
    """CNY with two decimals, stored in fen."""

    cache_ok = True
    scale = 2


class Qty(ScaledDecimal):
    """Quantities with three decimals (weighed goods), stored in thousandths."""

    cache_ok = True
    scale = 3


class Fraction(ScaledDecimal):
    """Shares between 0 and 1 with three decimals (a campaign's control share), stored in thousandths."""

    cache_ok = True
    scale = 3


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamps on every database: stored in UTC, returned aware.

    PostgreSQL's timestamptz does this itself; SQLite stores text and would hand back naive values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: times must carry a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value
