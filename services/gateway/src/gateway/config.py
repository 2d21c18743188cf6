from functools import lru_cache

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "gateway"
    members_url: str = "http://127.0.0.1:8001"
    points_url: str = "http://127.0.0.1:8002"
    campaigns_url: str = "http://127.0.0.1:8003"
    feedback_url: str = "http://127.0.0.1:8004"
    # Budget of each downstream call of an aggregated view: a slow service costs its section,
    # never the whole page.
    downstream_timeout_s: float = 2.0
    # Budget of a forwarded request (registrations, edits, reports, pass-through): a write that
    # is cut short may still commit downstream, so the caller would see 503 for something that
    # happened. Long enough for a busy SQLite writer; reads of the 360 view keep the short budget.
    forward_timeout_s: float = 30.0
    # Budget of the till's coupon calls (validate, reserve, release): a customer is waiting at the
    # checkout, and reserve and release are keyed by the till's transaction, so the till can simply
    # retry or go on without the coupon rather than hang for the long forwarding budget.
    pos_coupon_timeout_s: float = 5.0


@lru_cache
def get_settings() -> Settings:
    return Settings()
