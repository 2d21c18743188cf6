from decimal import Decimal
from functools import lru_cache

from pydantic import Field

from points.domain.entitlements import DEFAULT_VISITS_BY_MILESTONE
from points.domain.expiry import ExpiryPolicy
from points.domain.manual import ManualCaps
from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "points"
    # Its handlers touch only the accounts of the events' members, which key the partitions, and
    # lock them in member order: two partitions booked at once never wait on each other.
    consumer_partitions_in_flight: int = Field(default=2, ge=1, le=16)
    # Points earned in year Y expire at the end of year Y + expiry_years_after.
    expiry_years_after: int = Field(default=1, ge=0, le=10)
    # Members are warned (crm.points.points_expiring.v1) this many days before their points expire.
    expiry_warning_days: int = Field(default=30, ge=0, le=366)
    expiry_job_every_s: float = 6 * 3600.0
    bulk_bonus_job_every_s: float = 60.0
    # The liability snapshot job: its first run of each business day keeps the day's figures
    # (service_layer/liability.py); a run later that day finds them taken and reads nothing.
    liability_snapshot_job_every_s: float = Field(default=3600.0, gt=0)
    # Daily snapshots older than this go; each month's first day's stays (the previous month's close).
    liability_snapshot_days_kept: int = Field(default=92, ge=1, le=3660)
    # Lifetime spend milestone (yuan) -> total free home visits to collect leftover materials.
    leftover_visits_by_milestone: dict[Decimal, int] = Field(default_factory=lambda: dict(DEFAULT_VISITS_BY_MILESTONE))
    # Largest member list one bulk bonus may carry.
    bulk_bonus_max_members: int = 20_000
    # Manual adjustments and bonuses by store managers: the most points (absolute) one entry and
    # one staff member's business day may move; beyond them only admins book (domain/manual.py).
    manual_entry_cap: int = Field(default=2_000, ge=1)
    manual_daily_cap: int = Field(default=10_000, ge=1)
    # Members, asked for customers' names when the gift register is printed or exported, with the
    # caller's own token (adapters/member_names.py).
    members_url: str = "http://127.0.0.1:8001"
    members_timeout_s: float = Field(default=5.0, gt=0, le=60)
    # Campaigns, asked whether the coupon template a coupon item names exists, with the caller's
    # own token (adapters/coupon_templates.py).
    campaigns_url: str = "http://127.0.0.1:8003"
    campaigns_timeout_s: float = Field(default=5.0, gt=0, le=60)

    @property
    def manual_caps(self) -> ManualCaps:
        return ManualCaps(per_entry=self.manual_entry_cap, per_day=self.manual_daily_cap, zone=self.zone)

    @property
    def expiry_policy(self) -> ExpiryPolicy:
        return ExpiryPolicy(years_after=self.expiry_years_after, warning_days=self.expiry_warning_days)


@lru_cache
def get_settings() -> Settings:
    return Settings()
