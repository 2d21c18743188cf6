"""The campaigns service driven as its users and the broker would: marketing (segments, templates,
issuing), tills (validate, reserve, release), members' wallets, and events handed to its consumer;
with a clock the test moves. Members' event builders for the audience: tests/support/audience.py."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlmodel import select

from shared.auth import Role, TokenIssuer, ensure_dev_keypair
from shared.events import contracts as c
from shared.events.envelope import Envelope, new_event, sale_event_id
from shared.events.registry import (
    MEMBER_ERASED,
    MEMBER_PROFILE_CHANGED,
    MEMBER_REGISTERED,
    PURCHASE_MADE,
    PURCHASE_REFUNDED,
)
from shared.outbox import OutboxRecord
from tests.support.audience import T0 as START
from tests.support.factories import keyed
from tests.support.platform import TestEnv


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def template_body(**overrides: Any) -> dict[str, Any]:
    """满100减20, valid through December."""
    body: dict[str, Any] = {
        "name": "满100减20", "kind": "threshold", "amount": "20", "threshold": "100",
        "validity": {"valid_from": "2026-12-01T00:00:00+08:00", "valid_until": "2027-01-01T00:00:00+08:00"},
    }
    body.update(overrides)
    return body


def sale_line(amount: str = "120.00", *, sku: str = "6900000000001", category: str = "grain") -> dict[str, Any]:
    return {"sku": sku, "name": "item", "category": category, "qty": "1", "unit_price": amount, "amount": amount}


class Owner:
    """The default card at the till: that of the member whose coupon is presented."""


OWNER = Owner()


@dataclass
class CampaignsDriver:
    client: httpx.AsyncClient
    env: TestEnv
    clock: Clock
    cards: dict[str, str] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # code -> member, from the wallets read

    @property
    def app(self):
        return self.client.app  # type: ignore[attr-defined]

    # --- who calls

    def marketing(self) -> dict[str, str]:
        return self.env.auth(Role.MARKETING)

    def till(self, store: str = "S001") -> dict[str, str]:
        return self.env.auth(Role.POS, store_id=store)

    def member(self, member_id: str) -> dict[str, str]:
        return self.env.auth(Role.MEMBER, member_id=member_id)

    # --- marketing

    async def template(self, **overrides: Any) -> str:
        r = await self.client.post("/v1/coupon-templates", json=template_body(**overrides), headers=keyed(self.marketing()))
        assert r.status_code == 201, r.text
        return r.json()["id"]

    async def issue(self, template_id: str, members: list[str], campaign_id: str | None = None) -> dict[str, Any]:
        """Issues by hand to `members`, registered with campaigns first (as members' events would
        have them) where the test has not: campaigns issues nothing to an id it does not know."""
        if fresh := [m for m in dict.fromkeys(members) if m not in self.cards]:
            await self.apply(*(self.registered(m) for m in fresh))
        body: dict[str, Any] = {"member_ids": members}
        if campaign_id:
            body["campaign_id"] = campaign_id
        r = await self.client.post(f"/v1/coupon-templates/{template_id}/issue", json=body, headers=self.marketing())
        assert r.status_code == 200, r.text
        return r.json()

    async def wallet(self, member_id: str) -> list[dict[str, Any]]:
        r = await self.client.get(f"/v1/members/{member_id}/coupons", headers=self.member(member_id))
        assert r.status_code == 200, r.text
        self.owners.update((coupon["code"], member_id) for coupon in r.json())
        return r.json()

    async def code_of(self, member_id: str) -> str:
        (coupon,) = await self.wallet(member_id)
        return coupon["code"]

    # --- campaigns

    async def launched(self, **spec: Any) -> dict[str, Any]:
        """A campaign created and launched by marketing; its state after the launch."""
        r = await self.client.post("/v1/campaigns", json=spec, headers=keyed(self.marketing()))
        assert r.status_code == 201, r.text
        r = await self.client.post(f"/v1/campaigns/{r.json()['id']}/launch", headers=self.marketing())
        assert r.status_code == 200, r.text
        return r.json()

    async def sizes(self, campaign_id: str) -> tuple[int, int]:
        """The members a campaign reached so far: (treatment, control)."""
        body = (await self.client.get(f"/v1/campaigns/{campaign_id}", headers=self.marketing())).json()
        return body["treatment_size"], body["control_size"]

    # --- segments

    async def preview(self, rule: dict[str, Any]) -> dict[str, Any]:
        r = await self.client.post("/v1/segments/preview", json={"rule": rule}, headers=self.marketing())
        assert r.status_code == 200, r.text
        return r.json()

    async def members_of(self, rule: dict[str, Any]) -> list[str]:
        body = await self.preview(rule)
        assert body["size"] <= 20, "a sample is not the whole audience"
        return [s["member_id"] for s in body["sample"]]

    # --- the till

    def card_for(self, codes: list[str], card: "str | Owner | None") -> str | None:
        """`card` as given; by default the card of the member whose coupon is among `codes`, as a
        customer shows their card with their coupon (member coupons need it)."""
        if not isinstance(card, Owner):
            return card
        owner = next((self.owners[code] for code in codes if code in self.owners), None)
        return self.cards.get(owner) if owner is not None else None

    def till_body(self, codes: list[str], *, txn: str = "T-1", store: str = "S001", lines: list[dict] | None = None,
                  card: "str | Owner | None" = OWNER, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"store_id": store, "pos_txn_id": txn, "lines": [sale_line()] if lines is None else lines, "codes": codes, **extra}
        card = self.card_for(codes, card)
        if card:
            body["member"] = {"card_no": card}
        return body

    async def validate(self, codes: list[str], **kw: Any) -> httpx.Response:
        return await self.client.post("/v1/coupons/validate", json=self.till_body(codes, **kw), headers=self.till(kw.get("store", "S001")))

    async def reserve(self, codes: list[str], **kw: Any) -> httpx.Response:
        return await self.client.post("/v1/coupons/reserve", json=self.till_body(codes, **kw), headers=self.till(kw.get("store", "S001")))

    async def release(self, txn: str, store: str = "S001") -> httpx.Response:
        return await self.client.post("/v1/coupons/release", json={"store_id": store, "pos_txn_id": txn}, headers=self.till(store))

    # --- events, as members and the tills publish them

    def registered(self, member_id: str, home_store_id: str = "S001") -> Envelope:
        card = self.cards.setdefault(member_id, f"88{uuid.uuid4().int % 10**11:011d}")
        data = c.MemberRegisteredV1(member_id=member_id, card_no=card, channel="retail", home_store_id=home_store_id,
                                    registered_at=START)
        return new_event(MEMBER_REGISTERED, data, source="crm/members", subject=member_id)

    def card_replaced(self, member_id: str, card_no: str, home_store_id: str = "S001") -> Envelope:
        """Members' `member_profile_changed` after a lost card was replaced by `card_no`."""
        self.cards[member_id] = card_no
        data = c.MemberProfileChangedV1(member_id=member_id, changed_at=self.clock.now, home_store_id=home_store_id,
                                        channel="retail", card_no=card_no)
        return new_event(MEMBER_PROFILE_CHANGED, data, source="crm/members", subject=member_id)

    def erased(self, member_id: str) -> Envelope:
        return new_event(MEMBER_ERASED, c.MemberErasedV1(member_id=member_id, erased_at=self.clock.now), source="crm/members",
                         subject=member_id)

    def _credential(self, store: str) -> str:
        private, _ = ensure_dev_keypair(self.app.state.settings.data_dir / "keys")
        return TokenIssuer(private).mint(f"till-{store}", Role.POS, store_id=store)

    def sale(self, codes: list[str], *, txn: str = "T-1", store: str = "S001", lines: list[dict] | None = None,
             discounts: dict[str, str] | None = None, card: "str | Owner | None" = OWNER, at: datetime | None = None) -> Envelope:
        sale_lines = [c.SaleLine.model_validate(ln) for ln in (lines or [sale_line()])]
        card = self.card_for(codes, card)
        sale = c.PurchaseMadeV1(
            store_id=store, pos_txn_id=txn, occurred_at=at or self.clock.now, lines=sale_lines,
            customer=c.CustomerRef(card_no=card) if card else None,
            total=sum((ln.amount for ln in sale_lines), Decimal("0.00")), coupons=codes,
            discounts=[c.Discount(code=code, amount=Decimal(amount)) for code, amount in (discounts or {}).items()],
        )
        return new_event(PURCHASE_MADE, sale, source="test/pos", event_id=sale_event_id(store, txn),
                         credential=self._credential(store))

    def refund(self, txn: str = "T-1", *, store: str = "S001", refund_id: str = "R-1", amount: str = "120.00",
               sale_store: str | None = None) -> Envelope:
        """A return at a till of `store`, of a sale of `sale_store` (another store of the chain), else of its own."""
        refund = c.PurchaseRefundedV1(
            store_id=store, refund_id=refund_id, pos_txn_id=txn, occurred_at=self.clock.now,
            lines=[c.SaleLine.model_validate(sale_line(amount))], amount=Decimal(amount), sale_store_id=sale_store,
        )
        return new_event(PURCHASE_REFUNDED, refund, source="test/pos", event_id=sale_event_id(store, refund_id, "refund"),
                         credential=self._credential(store))

    async def apply(self, *envelopes: Envelope) -> None:
        """Through the consumer's exactly-once path, as one batch from the broker."""
        consumer = self.app.state.consumer
        await consumer.apply_batch([consumer.delivery(e) for e in envelopes])

    # --- reading back

    async def outbox(self, event_type: str) -> list[dict[str, Any]]:
        async with self.app.state.sessions() as s:
            rows = (await s.exec(select(OutboxRecord).where(OutboxRecord.event_type == event_type).order_by(OutboxRecord.id))).all()
        return [Envelope.model_validate_json(r.envelope).data for r in rows]

    async def run_job(self, name: str) -> dict[str, Any]:
        r = await self.client.post(f"/v1/jobs/{name}/run", headers=self.env.auth(Role.ADMIN))
        assert r.status_code == 200, r.text
        return r.json()
