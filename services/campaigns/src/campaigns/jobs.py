"""Scheduled jobs of the campaigns service; each is safe to run twice and on every replica."""

from datetime import datetime
from typing import Any

from campaigns.config import Settings
from campaigns.service_layer import coupons
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


def scheduled_jobs(settings: Settings) -> list[ScheduledJob]:
    return [ScheduledJob("coupon-reservations", settings.coupon_release_every_s, release_expired_reservations)]
