"""Scheduled jobs of the points service; each is safe to run twice and on every replica."""

from datetime import datetime
from typing import Any

from points.config import Settings
from points.service_layer.bulk import run_unfinished
from points.service_layer.expiry import run_expiry
from points.service_layer.liability import take_snapshot
from shared.commands import Commands
from shared.jobs import ScheduledJob


async def expire_points(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
    return await run_expiry(commands, settings.expiry_policy, settings.zone, now)


async def finish_bulk_bonuses(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
    return await run_unfinished(commands)


async def snapshot_liability(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
    return await take_snapshot(commands, settings)  # of the ledger now, whatever moment a run by hand names


def scheduled_jobs(settings: Settings) -> list[ScheduledJob]:
    return [
        ScheduledJob("points-expiry", settings.expiry_job_every_s, expire_points),
        ScheduledJob("bulk-bonus", settings.bulk_bonus_job_every_s, finish_bulk_bonuses),
        ScheduledJob("liability-snapshot", settings.liability_snapshot_job_every_s, snapshot_liability),
    ]
