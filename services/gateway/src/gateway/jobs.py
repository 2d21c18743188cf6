"""The gateway's scheduled work: reloading the revoked tills whose tokens it refuses."""

from datetime import datetime, timedelta
from typing import Any

from gateway.adapters.revocations import RevokedTills
from gateway.config import Settings
from gateway.service_layer import identity
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


def scheduled_jobs(settings: Settings, revoked: RevokedTills) -> list[ScheduledJob]:
    if not settings.identity_enabled:
        return []
    return [ScheduledJob("identity-revocations", settings.identity_revocation_refresh_s, refresh_revocations(revoked))]
