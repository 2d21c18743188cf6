"""The gateway's scheduled work: reloading the revoked tills whose tokens it refuses, and forgetting
staff sessions that ended."""

from datetime import datetime, timedelta
from typing import Any

from gateway.adapters.revocations import RevokedTills
from gateway.config import Settings
from gateway.service_layer import identity, staff_sessions
from shared.commands import Commands
from shared.jobs import JobFn, ScheduledJob


def refresh_revocations(revoked: RevokedTills) -> JobFn:
    async def run(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
        # A till revoked longer ago than a token lives has no token left to refuse.
        since = now - timedelta(seconds=settings.identity_token_ttl_s)
        async with commands() as uow:
            revoked.replace(await identity.revoked_tills_since(uow, since))
        return {"revoked_tills": len(revoked.client_ids)}

    return run


async def forget_ended_sessions(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
    # Kept a while after they end, so that "why was I logged out" can still be answered.
    before = now - timedelta(seconds=settings.staff_session_retention_s)
    async with commands() as uow:
        return {"sessions_deleted": await staff_sessions.forget_ended(uow, before)}


def scheduled_jobs(settings: Settings, revoked: RevokedTills) -> list[ScheduledJob]:
    if not settings.identity_enabled:
        return []
    return [
        ScheduledJob("identity-revocations", settings.identity_revocation_refresh_s, refresh_revocations(revoked)),
        ScheduledJob("staff-sessions-cleanup", settings.staff_session_cleanup_every_s, forget_ended_sessions),
    ]
