"""The feedback service alone on the test's backend, with a clock the test moves."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select

from feedback.config import Settings
from feedback.main import create_app
from shared.auth import Role
from shared.events import contracts as c
from shared.events.envelope import Envelope, new_event
from shared.events.registry import (
    ACCOUNT_MANAGER_ASSIGNED,
    MEMBER_ATTRIBUTES,
    MEMBER_ERASED,
    MEMBER_REGISTERED,
    TIER_CHANGED,
)
from shared.outbox import OutboxRecord
from tests.support.backends import on_postgres_only  # noqa: F401  (tests/support/backends.py says why)
from tests.support.factories import keyed
from tests.support.platform import TestEnv, service

START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in the stores' time zone


class MovableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Feedback:
    client: httpx.AsyncClient
    env: TestEnv
    clock: MovableClock

    @property
    def app(self):
        return self.client.app  # type: ignore[attr-defined]

    def as_(self, role: Role, subject: str | None = None, **claims: Any) -> dict[str, str]:
        token = self.env.issuer.mint(subject or f"test-{role.value}", role, **claims)
        return {"Authorization": f"Bearer {token}"}

    def desk(self, store: str = "S001") -> dict[str, str]:
        return self.as_(Role.SERVICE_DESK, "desk-li", store_id=store)

    def store_manager(self, store: str = "S001") -> dict[str, str]:
        return self.as_(Role.STORE_MANAGER, "sm-zhao", store_id=store)

    def member(self, member_id: str) -> dict[str, str]:
        return self.as_(Role.MEMBER, f"app-{member_id}", member_id=member_id)

    def admin(self) -> dict[str, str]:
        return self.as_(Role.ADMIN, "admin")

    async def file(self, headers: dict[str, str] | None = None, **fields: Any) -> dict:
        """Files a complaint under the key `headers` carry, or a new one (every filing needs one)."""
        body = {"category": "product_quality", "severity": "high", "description": "买到的牛奶已过期"} | fields
        headers = headers or self.desk()
        r = await self.client.post("/v1/complaints", json=body, headers=keyed(headers, headers.get("Idempotency-Key")))
        assert r.status_code == 201, r.text
        return r.json()

    async def act(self, complaint_id: str, action: str, headers: dict[str, str] | None = None, **body: Any) -> httpx.Response:
        return await self.client.post(f"/v1/complaints/{complaint_id}/{action}", json=body or None, headers=headers or self.desk())

    async def ok(self, complaint_id: str, action: str, headers: dict[str, str] | None = None, **body: Any) -> dict:
        r = await self.act(complaint_id, action, headers, **body)
        assert r.status_code == 200, r.text
        return r.json()

    async def apply(self, *envelopes: Envelope) -> None:
        """Hands events to the consumer's exactly-once path, as the broker would."""
        consumer = self.app.state.consumer
        await consumer.apply_batch([consumer.delivery(e) for e in envelopes])

    async def make_vip(self, member_id: str, manager_id: str | None) -> None:
        now = self.clock()
        await self.apply(
            new_event(TIER_CHANGED, c.TierChangedV1(
                member_id=member_id, old_tier="member", new_tier="vip", lifetime_spend="5000.00",
                reason="spend_threshold", changed_at=now), source="crm/members", subject=member_id),
            new_event(ACCOUNT_MANAGER_ASSIGNED, c.AccountManagerAssignedV1(
                member_id=member_id, manager_id=manager_id, store_id="S001", reason="new_vip", assigned_at=now),
                source="crm/members", subject=member_id),
        )

    async def register(self, member_id: str, home_store_id: str | None, manager_id: str | None = None) -> None:
        """Makes a member known to feedback as members' events do: registered at a home store and,
        given a manager, a VIP assigned to them."""
        await self.apply(new_event(MEMBER_REGISTERED, c.MemberRegisteredV1(
            member_id=member_id, card_no=f"card-{member_id}", channel="retail", home_store_id=home_store_id,
            registered_at=self.clock()), source="crm/members", subject=member_id))
        if manager_id:
            await self.make_vip(member_id, manager_id)

    async def attributes(self, member_id: str, home_store_id: str | None) -> None:
        """The daily analytics' view of a member, as members publishes it."""
        await self.apply(new_event(MEMBER_ATTRIBUTES, c.MemberAttributesV1(
            member_id=member_id, as_of=self.clock(), window_days=365, tier="member", channel="retail",
            home_store_id=home_store_id, recency=3, frequency=3, monetary=3, value_class="ordinary",
            churn_risk="low", window_spend="100.00"), source="crm/members", subject=member_id))

    async def erase(self, member_id: str) -> None:
        await self.apply(new_event(MEMBER_ERASED, c.MemberErasedV1(member_id=member_id, erased_at=self.clock()),
                                   source="crm/members", subject=member_id))

    async def outbox(self, event_type: str) -> list[dict]:
        async with self.app.state.sessions() as s:
            rows = (await s.exec(select(OutboxRecord).where(OutboxRecord.event_type == event_type).order_by(OutboxRecord.id))).all()  # type: ignore[arg-type]
        return [json.loads(r.envelope) | {"kafka_key": r.key} for r in rows]


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(START)


@pytest.fixture
async def fb(env: TestEnv, database_factory, clock: MovableClock):
    settings = env.settings(Settings, await database_factory("feedback"))
    async with service(create_app(settings, clock=clock)) as client:
        yield Feedback(client, env, clock)
