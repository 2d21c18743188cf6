"""Satisfaction surveys: which sales are sampled, invitation tokens, and the scores.

CSAT is the share of ratings of 4 or 5 (in percent); NPS is promoters (9–10) minus detractors
(0–6), in percent of answers.
"""

import base64
import hashlib
import hmac
from collections.abc import Collection
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from shared.errors import Invalid
from shared.zones import end_of_local_day

DIMENSIONS = ("product_quality", "service", "price", "store_environment", "after_sales")
DIMENSION_LABELS = {
    "product_quality": "商品质量 Product quality",
    "service": "服务 Service",
    "price": "价格 Price",
    "store_environment": "购物环境 Store environment",
    "after_sales": "售后 After-sales",
}


def invitation_expiry(created_at: datetime, ttl_days: int, zone: ZoneInfo) -> datetime:
    """When an invitation made at `created_at` stops taking answers: at the end of the chain's
    local day `ttl_days` after, the last day its SMS names (`expires_on`), so the link works all
    of that day rather than stopping at the time of day it was made."""
    return end_of_local_day(created_at, zone, ttl_days)


def last_day_to_answer(expires_at: datetime, zone: ZoneInfo) -> date:
    """The local date an invitation can last be answered on: the day before the midnight it expires at."""
    return (expires_at.astimezone(zone) - timedelta(microseconds=1)).date()


class AnswerDoesNotFit(Invalid):
    """Answers that do not fit the questions the survey asked (422), every misfit named by its field
    in one answer, so the app can mark them all at once."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(", ".join(field for field, _ in problems), "; ".join(message for _, message in problems))
        self.args = ("; ".join(f"{field}: {message}" for field, message in problems),)
        self.problems = problems


def check_answer(
    asked: Collection[str], ask_nps: bool, ask_comment: bool, *,
    ratings: Collection[str], nps: int | None, comment: str | None,
) -> None:
    """`asked` are the template's dimensions and `ratings` the rated ones; raises AnswerDoesNotFit."""
    problems = [(f"ratings.{d}", "required by this survey") for d in asked if d not in ratings]
    problems += [(f"ratings.{d}", "not asked by this survey") for d in ratings if d not in asked]
    if ask_nps and nps is None:
        problems.append(("nps", "required by this survey"))
    if not ask_nps and nps is not None:
        problems.append(("nps", "not asked by this survey"))
    if not ask_comment and comment:
        problems.append(("comment", "not asked by this survey"))
    if problems:
        raise AnswerDoesNotFit(problems)


def sampled(sale_event_id: str, rate: float) -> bool:
    """Deterministic: the same sale is always in or out, however often its event is redelivered."""
    digest = hashlib.sha256(sale_event_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def link_token(key: str, invitation_id: str, nonce: str) -> str:
    mac = hmac.new(key.encode(), f"{invitation_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def percent(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def nps(promoters: int, detractors: int, answers: int) -> Decimal | None:
    if answers == 0:
        return None
    return (Decimal(100) * (promoters - detractors) / answers).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def change(current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    if current is None or previous is None:
        return None
    return current - previous
