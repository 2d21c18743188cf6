"""Scheduled jobs of the feedback service; each is safe to run twice and on every replica."""

from feedback.config import Settings
from feedback.service_layer.escalation import escalate_overdue
from shared.jobs import ScheduledJob


def scheduled_jobs(settings: Settings) -> list[ScheduledJob]:
    return [ScheduledJob("escalation", settings.escalation_every_s, escalate_overdue)]
