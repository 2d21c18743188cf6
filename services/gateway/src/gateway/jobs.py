"""The gateway's scheduled work: reloading the revoked tills and erased members whose tokens it
refuses, forgetting staff sessions that ended, and expired sign-in codes and refresh tokens, and
sampling the event flow for the console's history."""

from datetime import datetime, timedelta
from typing import Any

import httpx

from gateway.adapters.consumer_lag import group_lags
from gateway.adapters.member_revocations import RevokedMembers
from gateway.adapters.revocations import RevokedIds, RevokedTills
from gateway.config import Settings
from gateway.domain.event_flow import first_sample_after_s
from gateway.domain.event_flow import groups as consumer_groups
from gateway.service_layer import event_flow, identity, member_sign_in, member_tokens, staff_sessions
from shared.auth import MAX_TOKEN_LIFETIME, Role
from shared.commands import Commands
from shared.jobs import JobFn, ScheduledJob
from shared.tls import client_tls


def _reloaded(revoked: RevokedIds, loaded: set[str], since: datetime) -> dict[str, Any]:
    """Reloads the revoked ids and says what changed, not how many are held: a reload every 30 s
    that found nothing new is then a run that did nothing, logged at DEBUG (`shared.jobs`), rather
    than a line at INFO every 30 s for a month after each erasure."""
    before = revoked.ids
    revoked.replace(loaded, since)
    return {"newly_revoked": len(revoked.ids - before), "no_longer_held": len(before - revoked.ids)}


def refresh_revocations(revoked: RevokedTills) -> JobFn:
    async def run(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
        # A till revoked longer ago than a token lives has no token left to refuse.
        since = now - timedelta(seconds=settings.identity_token_ttl_s)
        async with commands() as uow:
            return _reloaded(revoked, await identity.revoked_tills_since(uow, since), since)

    return run


async def forget_ended_sessions(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
    # Kept a while after they end, so that "why was I logged out" can still be answered.
    before = now - timedelta(seconds=settings.staff_session_retention_s)
    async with commands() as uow:
        return {"sessions_deleted": await staff_sessions.forget_ended(uow, before)}


def refresh_member_revocations(revoked: RevokedMembers) -> JobFn:
    async def run(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
        # Not only the tokens the gateway issues: `crm token` mints member tokens of up to the
        # longest lifetime the services accept.
        since = now - MAX_TOKEN_LIFETIME[Role.MEMBER]
        async with commands() as uow:
            return _reloaded(revoked, await member_sign_in.revoked_members_since(uow, since), since)

    return run


async def forget_expired_sign_ins(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
    # A day's grace: nothing needs them, but a support question about a sign-in of this morning can
    # still be answered from the tables.
    async with commands() as uow:
        before = now - timedelta(days=1)
        return {"codes": await member_sign_in.forget_expired_codes(uow, before),
                "refresh_tokens": await member_tokens.forget_expired(uow, before)}


async def sample_event_flow(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
    """Measures the consumer groups' lag and the services' outbox backlogs for the console's
    24-hour history (a sample every `console_event_flow_sample_s`)."""
    groups = consumer_groups(settings.kafka_topic_prefix)
    timeout = httpx.Timeout(event_flow.DEADLINE_S)
    async with httpx.AsyncClient(base_url=settings.members_url, timeout=timeout, verify=client_tls()) as members, \
            httpx.AsyncClient(base_url=settings.points_url, timeout=timeout, verify=client_tls()) as points, \
            httpx.AsyncClient(base_url=settings.feedback_url, timeout=timeout, verify=client_tls()) as feedback, \
            httpx.AsyncClient(base_url=settings.campaigns_url, timeout=timeout, verify=client_tls()) as campaigns:
        clients: dict[str, httpx.AsyncClient | None] = {"members": members, "points": points, "feedback": feedback, "campaigns": campaigns}
        snapshot = await event_flow.measure(clients, lambda reads: group_lags(settings, groups, settings.console_lag_fetch_cap, reads), now)
    async with commands() as uow:
        snapshot.outboxes.insert(0, await event_flow.own_backlog(uow, settings.service_name))
        return {"samples": await event_flow.record(uow, snapshot)}


def scheduled_jobs(settings: Settings, revoked: RevokedTills, members: RevokedMembers | None = None) -> list[ScheduledJob]:
    if not settings.identity_enabled:
        return []
    jobs = [
        ScheduledJob("identity-revocations", settings.identity_revocation_refresh_s, refresh_revocations(revoked)),
        ScheduledJob("staff-sessions-cleanup", settings.staff_session_cleanup_every_s, forget_ended_sessions),
        ScheduledJob("event-flow-sample", settings.console_event_flow_sample_s, sample_event_flow,
                     first_after_s=first_sample_after_s(settings.console_event_flow_sample_s), now_only=True),
    ]
    if members is not None:
        jobs += [
            ScheduledJob("member-revocations", settings.identity_revocation_refresh_s, refresh_member_revocations(members)),
            ScheduledJob("member-sign-in-cleanup", 3600.0, forget_expired_sign_ins),
        ]
    return jobs
