"""Satisfaction surveys: which sales are sampled, invitation tokens, and the scores.

CSAT is the share of ratings of 4 or 5 (in percent); NPS is promoters (9–10) minus detractors
(0–6), in percent of answers.
"""

import base64
import hashlib
import hmac
from decimal import ROUND_HALF_UP, Decimal

DIMENSIONS = ("product_quality", "service", "price", "store_environment", "after_sales")
DIMENSION_LABELS = {
    "product_quality": "商品质量 Product quality",
    "service": "服务 Service",
    "price": "价格 Price",
    "store_environment": "购物环境 Store environment",
    "after_sales": "售后 After-sales",
}


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
