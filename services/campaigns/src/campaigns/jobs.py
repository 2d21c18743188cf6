"""Scheduled jobs of the campaigns service; each is safe to run twice and on every replica."""

from datetime import datetime
from typing import Any

from campaigns.config import Settings
from campaigns.service_layer import campaigns, coupons
from shared.commands import Commands
from shared.jobs import ScheduledJob


async def release_expired_reservations(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
    """Gives back the coupons whose till reservation lapsed (the sale never came, or was abandoned).
    Rows are locked and each release is guarded by the state, so two replicas release each once."""
    released = 0
    while True:
        async with commands() as uow:
            batch = await coupons.release_expired(uow, now, settings.coupon_release_batch)
        released += batch
        if batch < settings.coupon_release_batch:
            return {"released": released}


async def campaign_schedule(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
    """Starts scheduled campaigns whose start came (a one-off reaches its audience then) and ends
    those past their end. The campaign rows are locked, so two replicas start each once."""
    async with commands() as uow:
        return await campaigns.run_schedule(uow, now)


def scheduled_jobs(settings: Settings) -> list[ScheduledJob]:
    return [
        ScheduledJob("coupon-reservations", settings.coupon_release_every_s, release_expired_reservations),
        ScheduledJob("campaign-schedule", settings.campaign_schedule_every_s, campaign_schedule),
    ]
