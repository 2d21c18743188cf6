"""Scheduled jobs of the members service; each is safe to run twice and on every replica."""

from members.config import Settings
from members.service_layer import analytics, birthdays, tiers
from shared.jobs import ScheduledJob


def scheduled_jobs(settings: Settings) -> list[ScheduledJob]:
    return [
        ScheduledJob(analytics.JOB_NAME, settings.analytics_every_s, analytics.run),
        ScheduledJob("tier-review", settings.tier_review_every_s, tiers.run_tier_review),
        ScheduledJob(birthdays.JOB_NAME, settings.birthday_notices_every_s, birthdays.run),
    ]
