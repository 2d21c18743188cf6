from datetime import timedelta
from decimal import Decimal
from functools import lru_cache

from pydantic import Field, model_validator

from members.domain.churn import ChurnThresholds
from members.domain.tiers import TierRules
from members.domain.value_classes import ClassBoundaries
from shared.money import CENT
from shared.settings import ServiceSettings
from shared.unit_of_work import UnitOfWork


class Settings(ServiceSettings):
    service_name: str = "members"

    # Tiers, account managers and tracking (see docs/members.md, "VIP tiers, account managers and tracking").
    vip_threshold: Decimal = Decimal("5000.00")
    spend_milestones: list[Decimal] = Field(default_factory=lambda: [Decimal("30000.00"), Decimal("50000.00")])
    # Tier reviews are held on the first day of these months (quarterly by default); only a
    # review demotes a VIP whose spend fell below the threshold through returns.
    tier_review_months: list[int] = Field(default_factory=lambda: [1, 4, 7, 10])
    tier_review_every_s: float = 3600.0
    # How many days late an account manager may date a tracking form (`tracked_on`): a month fits
    # a catch-up after holidays or a leave; older dates are slips of the year or month
    # (members/domain/tracking.py).
    tracking_late_days: int = Field(default=31, ge=0, le=366)

    # Searches by phone number per caller and window: enough for a desk's day, far too few to find
    # the number behind a masked one by trying the hidden digits.
    phone_search_limit: int = Field(default=30, ge=1)
    phone_search_window_s: int = Field(default=3600, ge=60)

    # Value analytics: RFM, 80/20 classes and churn risk (see docs/members.md, "Value analytics").
    analytics_window_days: int = Field(default=365, ge=7, le=3650)
    analytics_key_share: Decimal = Decimal("0.80")
    analytics_secondary_share: Decimal = Decimal("0.95")
    analytics_top_fraction: Decimal = Decimal("0.20")
    # Churn: ratio of days since the last purchase to the customer's typical interval.
    churn_medium_ratio: float = 1.5
    churn_high_ratio: float = 2.5
    churn_lost_ratio: float = 4.0
    churn_min_interval_days: float = 2.0
    # A complaint filed this recently raises the customer's churn risk by one step.
    churn_complaint_days: int = Field(default=30, ge=0)
    analytics_every_s: float = 86400.0

    # Birthdays are announced (`birthday_upcoming`) this many local days ahead, once per member and
    # year. The job checks hourly: a day is announced by whichever run sees it first, and each run
    # catches up the days since the previous one (a birthday given after that day's last run).
    birthday_notice_days: int = Field(default=7, ge=0, le=60)
    birthday_notices_every_s: float = 3600.0

    @model_validator(mode="after")
    def _rules_consistent(self) -> "Settings":
        self.class_boundaries, self.churn_thresholds, self.tier_rules  # noqa: B018 - raise at boot, not at the first sale
        return self

    @property
    def phone_search_window(self) -> timedelta:
        return timedelta(seconds=self.phone_search_window_s)

    @property
    def tier_rules(self) -> TierRules:
        return TierRules(
            vip_threshold=self.vip_threshold,
            milestones=tuple(Decimal(m).quantize(CENT) for m in self.spend_milestones),
            review_months=tuple(self.tier_review_months),
        )

    @property
    def class_boundaries(self) -> ClassBoundaries:
        return ClassBoundaries(self.analytics_key_share, self.analytics_secondary_share, self.analytics_top_fraction)

    @property
    def churn_thresholds(self) -> ChurnThresholds:
        return ChurnThresholds(
            self.churn_medium_ratio, self.churn_high_ratio, self.churn_lost_ratio, self.churn_min_interval_days
        )


def settings_of(uow: UnitOfWork) -> Settings:
    """The members settings a unit of work was opened with (by the consumer, a route or a job)."""
    if not isinstance(uow.settings, Settings):
        raise RuntimeError("this unit of work was opened without the members settings")
    return uow.settings


@lru_cache
def get_settings() -> Settings:
    return Settings()
