from functools import lru_cache

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


@lru_cache
def get_settings() -> Settings:
    return Settings()
