"""The event flow now and over the last 24 hours: consumer groups' lag per partition (counted by
fetching, `adapters.consumer_lag`) and each service's outbox backlog (from its `/health/ready`),
sampled by the `event-flow-sample` job and kept a day and a half. A service's `/health/ready` also
names its consumer group and the topics it reads, so that a group is measured there before it has
ever committed: a consumer stuck from its first event would otherwise not show at all."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import delete, func
from sqlmodel import col, select

from gateway.adapters.console_tables import EventFlowSampleRow
from gateway.domain.dead_letters import BrokerAway
from gateway.domain.event_flow import HISTORY, OutboxBacklog, PartitionLag, group_totals
from shared.outbox import OutboxRecord
from shared.unit_of_work import UnitOfWork

KEEP = HISTORY + timedelta(hours=12)
DEADLINE_S = 3.0
# Given the topics each consumer group reads, as the services said (group -> topics).
LagReader = Callable[[dict[str, list[str]]], Awaitable[list[PartitionLag]]]


@dataclass(frozen=True, slots=True)
class Snapshot:
    at: datetime
    lags: list[PartitionLag]
    outboxes: list[OutboxBacklog]
    problem: str = ""  # why the lag could not be measured (the broker is away)


async def _ready(service: str, client: httpx.AsyncClient | None) -> tuple[OutboxBacklog, dict[str, list[str]]]:
    """The service's outbox backlog, and the topics its consumer group reads ({} if it did not say)."""
    if client is None:
        return OutboxBacklog(service, None, None), {}
    try:
        body = (await client.get("/health/ready", timeout=DEADLINE_S)).json()
    except (httpx.HTTPError, ValueError):
        return OutboxBacklog(service, None, None), {}
    if not isinstance(body, dict):
        return OutboxBacklog(service, None, None), {}
    pending, oldest = body.get("outbox_pending"), body.get("outbox_oldest_pending_at")
    group, topics = body.get("consumer_group"), body.get("consumer_topics")
    reads = {group: [t for t in topics if isinstance(t, str)]} if isinstance(group, str) and isinstance(topics, list) else {}
    return OutboxBacklog(service, pending if isinstance(pending, int) else None,
                         datetime.fromisoformat(oldest) if isinstance(oldest, str) else None), reads


async def measure(clients: dict[str, httpx.AsyncClient | None], lags: LagReader, now: datetime) -> Snapshot:
    answers = await asyncio.gather(*(_ready(name, client) for name, client in clients.items()))
    outboxes = [outbox for outbox, _ in answers]
    reads = {group: topics for _, said in answers for group, topics in said.items()}
    try:
        return Snapshot(now, await lags(reads), outboxes)
    except BrokerAway as exc:  # the outboxes are still worth showing
        return Snapshot(now, [], outboxes, str(exc))


async def own_backlog(uow: UnitOfWork, service: str) -> OutboxBacklog:
    """The backlog of the outbox in this service's own database (what its /health/ready says)."""
    row = (await uow.session.exec(
        select(func.count(), func.min(OutboxRecord.created_at)).where(col(OutboxRecord.published_at).is_(None))
    )).one()
    return OutboxBacklog(service, int(row[0]), row[1])


async def record(uow: UnitOfWork, snapshot: Snapshot) -> int:
    """Keeps the snapshot's totals (per group, per service) and forgets samples older than KEEP."""
    rows = [EventFlowSampleRow(sampled_at=snapshot.at, kind="lag", subject=group, messages=behind, seconds=seconds)
            for group, (behind, seconds) in group_totals(snapshot.lags, snapshot.at).items()]
    rows += [EventFlowSampleRow(sampled_at=snapshot.at, kind="outbox", subject=o.service, messages=o.pending,
                                seconds=o.seconds(snapshot.at))
             for o in snapshot.outboxes if o.pending is not None]
    uow.session.add_all(rows)
    await uow.session.exec(delete(EventFlowSampleRow).where(col(EventFlowSampleRow.sampled_at) < snapshot.at - KEEP))
    return len(rows)


async def history(uow: UnitOfWork, kind: str, now: datetime) -> dict[str, list[tuple[datetime, float, float]]]:
    """(when, messages, seconds) of each subject's samples in the last 24 hours, oldest first."""
    rows = (await uow.session.exec(
        select(EventFlowSampleRow)
        .where(EventFlowSampleRow.kind == kind, col(EventFlowSampleRow.sampled_at) >= now - HISTORY)
        .order_by(col(EventFlowSampleRow.sampled_at))
    )).all()
    found: dict[str, list[tuple[datetime, float, float]]] = {}
    for row in rows:
        found.setdefault(row.subject, []).append((row.sampled_at, float(row.messages), float(row.seconds)))
    return found
