"""Scheduled jobs of the campaigns service; each is safe to run twice and on every replica."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from campaigns.adapters.transports import Providers, transport_for
from campaigns.config import Settings
from campaigns.service_layer import campaigns, messages, offer_lists
from campaigns.service_layer.coupons.till import release_expired
from shared.commands import Commands
from shared.errors import Conflict
from shared.jobs import ScheduledJob


async def release_expired_reservations(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
    """Gives back the coupons whose till reservation lapsed (the sale never came, or was abandoned).
    Rows are locked and each release is guarded by the state, so two replicas release each once."""
    released = 0
    while True:
        async with commands() as uow:
            batch = await release_expired(uow, now, settings.coupon_release_batch)
        released += batch
        if batch < settings.coupon_release_batch:
            return {"released": released}


async def campaign_schedule(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
    """Starts scheduled campaigns whose start came (a one-off reaches its audience then) and ends
    those past their end. The campaign rows are locked, so two replicas start each once."""
    async with commands() as uow:
        return await campaigns.run_schedule(uow, now)


async def message_dispatch(commands: Commands, settings: Settings, now: datetime,
                           providers: Providers | None = None) -> dict[str, Any]:
    """Hands due messages to the transport, a batch per transaction, until none is due. Each
    batch's rows are locked and skipped by other replicas, so no message goes out twice."""
    totals: dict[str, int] = {}
    while True:
        async with commands() as uow:
            transport = transport_for(settings, uow.session, providers)
            batch = await messages.dispatch(uow, transport, now, settings.message_dispatch_batch,
                                            providers.contacts if providers else None, providers.staff if providers else None)
        for outcome, n in batch.items():
            totals[outcome] = totals.get(outcome, 0) + n
        if batch["due"] < settings.message_dispatch_batch:
            return totals


async def build_offer_lists(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
    """The period's round of personal offer lists, once per period (keyed by it): a run finds it
    built (by an earlier run, or by marketing asking for it), or finishes a build that was cut short.
    With nothing on the promotion list it waits."""
    try:
        row, opened = await offer_lists.build_period(commands, settings, now)
    except Conflict as exc:
        return {"built": False, "reason": str(exc)}
    # A run that found the period's round there (built by an earlier run, or by marketing) says so.
    return {"built": True, "already": not opened, **offer_lists.summary(row)}


def scheduled_jobs(settings: Settings, providers: Callable[[], Providers | None] = lambda: None) -> list[ScheduledJob]:
    """`providers` gives the real transports made at start-up (None: the local outbox)."""

    async def dispatch(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
        return await message_dispatch(commands, settings, now, providers())

    return [
        ScheduledJob("coupon-reservations", settings.coupon_release_every_s, release_expired_reservations),
        ScheduledJob("campaign-schedule", settings.campaign_schedule_every_s, campaign_schedule),
        ScheduledJob("message-dispatch", settings.message_dispatch_every_s, dispatch),
        ScheduledJob("offer-lists", settings.offer_list_every_s, build_offer_lists),
    ]
