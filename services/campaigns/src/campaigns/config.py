from decimal import Decimal
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "campaigns"

    # --- coupons
    # How long a till's reservation holds its coupons; then the release job gives them back.
    coupon_reservation_ttl_s: int = Field(default=900, ge=30, le=86_400)
    coupon_release_every_s: float = 60.0
    # Reservations released per run of the job (each run takes the oldest first).
    coupon_release_batch: int = Field(default=1_000, ge=1)
    # Largest member list one issue request may carry (a launch issues more, a page at a time).
    coupon_issue_max_members: int = Field(default=10_000, ge=1)
    # --- end of coupons
    # How often scheduled campaigns are started and ended campaigns closed.
    campaign_schedule_every_s: float = 60.0

    # --- messages: the sender (service_layer/messages.py)
    # The chain's local time, as members and points read it: quiet hours are local hours.
    business_timezone: str = "Asia/Shanghai"
    # Quiet hours [start, end) in local hours: a message due then waits until `end`, never dropped.
    message_quiet_start_hour: int = Field(default=21, ge=0, le=23)
    message_quiet_end_hour: int = Field(default=8, ge=0, le=23)
    # Marketing messages one member may get in any 7 days; the next ones are cancelled with a reason.
    message_weekly_cap: int = Field(default=2, ge=0, le=100)
    # The chain's sign name, which Chinese carriers require at the start of every SMS.
    sms_sign: str = Field(default="【邻里生活超市】", min_length=3, max_length=20, pattern=r"^【[^【】]+】$")
    # Language of messages when nothing says otherwise (templates exist in zh-CN and en).
    message_language: Literal["zh-CN", "en"] = "zh-CN"
    # How messages leave: `local` records them in the local outbox table (GET /v1/outbox).
    message_transport: Literal["local"] = "local"
    message_dispatch_every_s: float = 10.0
    # Messages handed to the transport per transaction of the dispatch job.
    message_dispatch_batch: int = Field(default=500, ge=1, le=10_000)
    # Attempts before a message is `failed`; the wait after the n-th failure is base * 2^(n-1), capped.
    message_max_attempts: int = Field(default=5, ge=1, le=50)
    message_retry_base_s: float = Field(default=60.0, gt=0)
    message_retry_max_s: float = Field(default=3_600.0, gt=0)
    # --- end of messages

    # --- offers: the personal offer lists (service_layer/offer_lists.py)
    # A round of lists every this many days (periods counted from 1970-01-01 UTC); the job checks hourly.
    offer_list_period_days: int = Field(default=14, ge=1, le=90)
    offer_list_every_s: float = 3_600.0
    # Offers on one member's list at most.
    offer_list_size: int = Field(default=8, ge=1, le=50)
    # Below this predicted chance of buying in the horizon an item is not "predicted".
    offer_min_score: float = Field(default=0.05, ge=0, le=1)
    # Members held out of each round (they get no list), so uplift is measured like any campaign's.
    offer_control_share: Decimal = Field(default=Decimal("0.1"), ge=0, le=Decimal("0.5"))
    # History the prediction reads, and how many members' histories it learns items from.
    offer_history_days: int = Field(default=365, ge=28, le=1_100)
    offer_sample_members: int = Field(default=5_000, ge=100)
    # Members per transaction while building.
    offer_build_chunk: int = Field(default=2_000, ge=10, le=20_000)
    # The public address of the gateway, for the link in the list's SMS.
    public_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    # --- end of offers

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.business_timezone)


@lru_cache
def get_settings() -> Settings:
    return Settings()
