"""The points service on the test's backend, and a driver that hands it events as the broker would."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlmodel import func, select

from points.adapters.coupon_templates import CouponTemplates
from points.adapters.member_names import MemberNames
from points.adapters.tables import LedgerRow
from points.config import Settings
from points.main import create_app
from shared.auth import Role
from shared.events import contracts as c
from shared.events.envelope import Envelope, new_event
from shared.events.registry import (
    ACCOUNT_MANAGER_ASSIGNED,
    COMPLAINT_RESOLVED,
    MEMBER_ATTRIBUTES,
    MEMBER_ERASED,
    MEMBER_PROFILE_CHANGED,
    MEMBER_REGISTERED,
    PURCHASE_ATTRIBUTED,
    RETURN_ATTRIBUTED,
    SPEND_MILESTONE_REACHED,
)
from shared.outbox import OutboxRecord
from tests.support.platform import TestEnv, running, service

SALE_TIME = datetime(2026, 11, 23, 2, 15, tzinfo=UTC)


def _lines(lines: list[tuple[str, str]]) -> list[c.AttributedLine]:
    return [c.AttributedLine(sku=f"69{i:011d}", category=cat, qty=Decimal(1), amount=Decimal(amount)) for i, (cat, amount) in enumerate(lines)]


class MembersStandIn(httpx.MockTransport):
    """Members' `GET /v1/members/{id}` as the printed gift register calls it: the customers it is
    given (404 for others), 403 for a token not in `allowed` when that is set, 503 when `down`.
    It records the token of every call."""

    def __init__(self) -> None:
        self.people: dict[str, dict[str, str]] = {}
        self.allowed: set[str] | None = None
        self.down = False
        self.tokens: list[str] = []
        super().__init__(self._answer)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.tokens.append(token)
        if self.down:
            return httpx.Response(503, json={"detail": "database unavailable"})
        if self.allowed is not None and token not in self.allowed:
            return httpx.Response(403, json={"detail": "not yours to see"})
        member_id = request.url.path.removeprefix("/v1/members/")
        person = self.people.get(member_id)
        return httpx.Response(404, json={"detail": "no member"}) if person is None else httpx.Response(200, json={"id": member_id, **person})


class CampaignsStandIn(httpx.MockTransport):
    """Campaigns' `GET /v1/coupon-templates/{id}` as a coupon item's check calls it: 200 for the
    templates it is given, 404 for others, 503 when `down`."""

    def __init__(self) -> None:
        self.templates: set[str] = set()
        self.down = False
        super().__init__(self._answer)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            return httpx.Response(503, json={"detail": "database unavailable"})
        template_id = request.url.path.removeprefix("/v1/coupon-templates/")
        if template_id not in self.templates:
            return httpx.Response(404, json={"detail": f"no coupon template {template_id}"})
        return httpx.Response(200, json={"id": template_id})


@dataclass
class PointsDriver:
    client: httpx.AsyncClient
    env: TestEnv
    members: MembersStandIn | None = None
    campaigns: CampaignsStandIn | None = None

    @property
    def app(self):
        return self.client.app  # type: ignore[attr-defined]

    # --- events, as members and feedback publish them

    def registered(self, member_id: str, channel: str = "retail", card_no: str | None = None,
                   home_store_id: str | None = "S001") -> Envelope:
        data = c.MemberRegisteredV1(member_id=member_id, card_no=card_no or f"88{uuid.uuid4().int % 10**11:011d}",
                                    channel=channel, home_store_id=home_store_id, registered_at=SALE_TIME)  # type: ignore[arg-type]
        return new_event(MEMBER_REGISTERED, data, source="crm/members", subject=member_id)

    def assigned(self, member_id: str, manager_id: str | None) -> Envelope:
        data = c.AccountManagerAssignedV1(member_id=member_id, manager_id=manager_id, reason="new_vip", assigned_at=SALE_TIME)
        return new_event(ACCOUNT_MANAGER_ASSIGNED, data, source="crm/members", subject=member_id)

    def attributes(self, member_id: str, home_store_id: str | None, as_of: datetime = SALE_TIME + timedelta(days=1)) -> Envelope:
        """As the nightly analytics after the sales of SALE_TIME publish them."""
        data = c.MemberAttributesV1(
            member_id=member_id, as_of=as_of, window_days=365, tier="member", channel="retail",
            home_store_id=home_store_id, recency=0, frequency=0, monetary=0, value_class="none", churn_risk="unknown",
            window_spend=Decimal("0.00"),
        )  # type: ignore[arg-type]
        return new_event(MEMBER_ATTRIBUTES, data, source="crm/members", subject=member_id)

    def profile_changed(self, member_id: str, *, channel: str = "retail", home_store_id: str | None = "S001",
                        card_no: str | None = None, at: datetime = SALE_TIME) -> Envelope:
        data = c.MemberProfileChangedV1(member_id=member_id, changed_at=at, home_store_id=home_store_id,
                                        channel=channel, card_no=card_no)  # type: ignore[arg-type]
        return new_event(MEMBER_PROFILE_CHANGED, data, source="crm/members", subject=member_id)

    def erased(self, member_id: str, at: datetime = SALE_TIME) -> Envelope:
        data = c.MemberErasedV1(member_id=member_id, erased_at=at)
        return new_event(MEMBER_ERASED, data, source="crm/members", subject=member_id)

    def sale(self, member_id: str, lines: list[tuple[str, str]] | str, *, txn: str | None = None, store: str = "S001",
             at: datetime = SALE_TIME, event_id: str | None = None, discount: str = "0.00") -> Envelope:
        """`lines` as (category, amount) pairs, or one total in the grain category; `discount` is
        what coupons took off the total."""
        txn = txn or f"T-{uuid.uuid4().hex[:10]}"
        items = _lines([("grain", lines)] if isinstance(lines, str) else lines)
        data = c.PurchaseAttributedV1(
            member_id=member_id, sale_event_id=f"sale-{store}-{txn}", store_id=store, pos_txn_id=txn, occurred_at=at,
            total=sum((ln.amount for ln in items), Decimal("0.00")), lines=items, discount=Decimal(discount),
        )
        return new_event(PURCHASE_ATTRIBUTED, data, source="crm/members", subject=member_id, event_id=event_id)

    def ret(self, sale: Envelope, lines: list[tuple[str, str]] | str, *, refund: str | None = None,
            at: datetime = SALE_TIME, event_id: str | None = None, store: str | None = None) -> Envelope:
        """A return of `sale` at its own store, or at `store` (another store of the chain)."""
        s = c.PurchaseAttributedV1.model_validate(sale.data)
        items = _lines([("grain", lines)] if isinstance(lines, str) else lines)
        refund = refund or f"R-{uuid.uuid4().hex[:10]}"
        store = store or s.store_id
        data = c.ReturnAttributedV1(
            member_id=s.member_id, refund_event_id=f"refund-{store}-{refund}", sale_event_id=s.sale_event_id,
            store_id=store, refund_id=refund, pos_txn_id=s.pos_txn_id, occurred_at=at,
            amount=sum((ln.amount for ln in items), Decimal("0.00")), sale_total=s.total, lines=items,
            sale_store_id=s.store_id if store != s.store_id else None,
        )
        return new_event(RETURN_ATTRIBUTED, data, source="crm/members", subject=s.member_id, event_id=event_id)

    def milestone(self, member_id: str, milestone: str, event_id: str | None = None) -> Envelope:
        data = c.SpendMilestoneReachedV1(member_id=member_id, milestone=Decimal(milestone), lifetime_spend=Decimal(milestone),
                                         reached_at=SALE_TIME)
        return new_event(SPEND_MILESTONE_REACHED, data, source="crm/members", subject=member_id, event_id=event_id)

    def complaint_resolved(self, member_id: str | None, points: int, complaint_id: str | None = None,
                           resolved_by: str | None = None) -> Envelope:
        """`resolved_by` left out: as feedback published it before the field was added."""
        data = c.ComplaintResolvedV1(
            complaint_id=complaint_id or f"C-{uuid.uuid4().hex[:8]}", member_id=member_id, store_id="S001",
            category="service_attitude", severity="medium", resolved_at=SALE_TIME, compensation_points=points,
            resolved_by=resolved_by,
        )
        return new_event(COMPLAINT_RESOLVED, data, source="crm/feedback", subject=member_id)

    async def apply(self, *envelopes: Envelope) -> None:
        """Through the consumer's exactly-once path, as one batch from the broker."""
        consumer = self.app.state.consumer
        await consumer.apply_batch([consumer.delivery(e) for e in envelopes])

    # --- reading back

    def desk(self, store_id: str | None = "S001") -> dict[str, str]:
        return self.env.auth(Role.SERVICE_DESK, store_id=store_id) if store_id else self.env.auth(Role.SERVICE_DESK)

    async def account(self, member_id: str, entries: int = 50) -> dict[str, Any]:
        r = await self.client.get(f"/v1/accounts/{member_id}?entries={entries}", headers=self.env.auth(Role.SERVICE_DESK))
        assert r.status_code == 200, r.text
        return r.json()

    async def balance(self, member_id: str) -> int:
        return (await self.account(member_id))["balance"]

    async def ledger_sum(self, member_id: str) -> int:
        async with self.app.state.sessions() as s:
            return (await s.exec(select(func.coalesce(func.sum(LedgerRow.points), 0)).where(LedgerRow.member_id == member_id))).one()

    async def outbox(self, event_type: str) -> list[dict[str, Any]]:
        async with self.app.state.sessions() as s:
            rows = (await s.exec(select(OutboxRecord).where(OutboxRecord.event_type == event_type).order_by(OutboxRecord.id))).all()
        return [Envelope.model_validate_json(r.envelope).data for r in rows]

    async def stock(self, gift_id: str, store_id: str, quantity: int) -> None:
        r = await self.client.put(f"/v1/gifts/{gift_id}/stock/{store_id}", json={"quantity": quantity},
                                  headers=self.env.auth(Role.STORE_MANAGER, store_id=store_id))
        assert r.status_code == 200, r.text

    async def redeem(self, member_id: str, gift_id: str, *, key: str | None = None, store: str = "S001") -> httpx.Response:
        return await self.client.post(
            "/v1/redemptions", json={"member_id": member_id, "gift_id": gift_id, "store_id": store},
            headers={**self.desk(store), "Idempotency-Key": key or uuid.uuid4().hex},
        )


def points_settings(env: TestEnv, url: str, **overrides: Any) -> Settings:
    return env.settings(Settings, url, **overrides)


@pytest.fixture
async def pts(env: TestEnv, database_factory):
    members, campaigns = MembersStandIn(), CampaignsStandIn()
    names = MemberNames("http://members.test", timeout_s=2, transport=members)
    templates = CouponTemplates("http://campaigns.test", timeout_s=2, transport=campaigns)
    app = create_app(points_settings(env, await database_factory("points")), member_names=names, coupon_templates=templates)
    async with service(app) as client:
        yield PointsDriver(client, env, members, campaigns)


class MovableClock:
    """The service's clock in a test: it says what `now` says until the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def clocked(env: TestEnv, database_factory) -> AsyncIterator[tuple[PointsDriver, MovableClock]]:
    """The service on a clock of the test's own, starting at SALE_TIME."""
    clock = MovableClock(SALE_TIME)
    async with service(create_app(points_settings(env, await database_factory("points")), clock=clock)) as client:
        yield PointsDriver(client, env), clock


@pytest.fixture
async def points_url(database_factory) -> str:
    return await database_factory("points")


@asynccontextmanager
async def live(env: TestEnv, url: str, **overrides: Any) -> AsyncIterator[PointsDriver]:
    """The service with its consumer running against the broker (waits for its partitions)."""
    app = create_app(points_settings(env, url, **overrides))
    async with running(app) as client:
        client.app = app  # type: ignore[attr-defined]
        yield PointsDriver(client, env)


@pytest.fixture
def start_live():
    """`async with start_live(env, url) as pts:` — the live service, startable twice on one database."""
    return live
