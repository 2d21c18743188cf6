"""Who may read or change which customer's points: every customer route of points against
`shared.policy.POLICY`, through the real app.

Two customers are known from members' events: IN (home store S001, account manager am-1) and OUT
(S002, am-2). Each role's token is bound the way its work is: desk, store manager and till to S001,
the account manager is am-1, the member is IN. The expected answer for every role and customer is
derived from the policy table, so the test follows the table when it changes.
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest

from shared.auth import Principal, Role
from shared.policy import POLICY, Grant, MemberFacts
from tests.support.backends import on_postgres_only  # noqa: F401  (the module's `backend`: tests/support/backends.py)

pytestmark = pytest.mark.integration

IN, OUT = "cust-in", "cust-out"
FACTS = {IN: MemberFacts(IN, "S001", "am-1"), OUT: MemberFacts(OUT, "S002", "am-2")}
# What an allowed call may answer: done, or refused for a business reason (no use left, already
# handed over) — never 403, and never 404 (the customer is known).
ALLOWED_ANSWERS = {200, 201, 202, 409}


def principal(role: Role) -> Principal:
    match role:
        case Role.SERVICE_DESK | Role.STORE_MANAGER | Role.POS:
            return Principal(subject=f"{role.value}-S001", role=role, store_id="S001")
        case Role.ACCOUNT_MANAGER:
            return Principal(subject="am-1", role=role)
        case Role.MEMBER:
            return Principal(subject=f"member-{IN}", role=role, member_id=IN)
        case _:
            return Principal(subject=f"{role.value}-1", role=role)


def headers(env, p: Principal) -> dict[str, str]:
    token = env.issuer.mint(p.subject, p.role, store_id=p.store_id, member_id=p.member_id)
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}


def allowed(p: Principal, action: str, member_id: str) -> bool:
    scope = POLICY[action].get(p.role)
    return scope is not None and Grant(p, action, scope).covers(FACTS[member_id])


Call = Callable[[httpx.AsyncClient, dict[str, str], str, dict[str, dict[str, str]]], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Route:
    name: str
    action: str
    call: Call

    def __str__(self) -> str:
        return self.name


ROUTES = [
    Route("GET /v1/accounts/{member_id}", "points.account.read",
          lambda c, h, m, _: c.get(f"/v1/accounts/{m}", headers=h)),
    Route("GET /v1/accounts/{member_id}/ledger", "points.account.read",
          lambda c, h, m, _: c.get(f"/v1/accounts/{m}/ledger", headers=h)),
    Route("GET /v1/entitlements/{member_id}", "points.account.read",
          lambda c, h, m, _: c.get(f"/v1/entitlements/{m}", headers=h)),
    Route("POST /v1/entitlements/{member_id}/{kind}/uses", "points.entitlement.use",
          lambda c, h, m, _: c.post(f"/v1/entitlements/{m}/leftover_collection_visit/uses", headers=h,
                                    json={"used_on": "2026-12-01", "store_id": "S001"})),
    Route("POST /v1/accounts/{member_id}/adjustments", "points.manual.book",
          lambda c, h, m, _: c.post(f"/v1/accounts/{m}/adjustments", headers=h, json={"points": 10, "reason": "till error"})),
    Route("POST /v1/accounts/{member_id}/bonuses", "points.manual.book",
          lambda c, h, m, _: c.post(f"/v1/accounts/{m}/bonuses", headers=h, json={"points": 10, "reason": "goodwill"})),
    Route("POST /v1/redemptions (member in the body)", "points.redemption.handle",
          lambda c, h, m, _: c.post("/v1/redemptions", headers=h, json={"member_id": m, "gift_id": "cushion", "store_id": "S001"})),
    Route("GET /v1/redemptions/{id} (member of the entry)", "points.redemption.read",
          lambda c, h, m, ctx: c.get(f"/v1/redemptions/{ctx[m]['hand_over']}", headers=h)),
    Route("POST /v1/redemptions/{id}/hand-over (member of the entry)", "points.redemption.handle",
          lambda c, h, m, ctx: c.post(f"/v1/redemptions/{ctx[m]['hand_over']}/hand-over", headers=h)),
    Route("POST /v1/redemptions/{id}/cancel (member of the entry)", "points.redemption.handle",
          lambda c, h, m, ctx: c.post(f"/v1/redemptions/{ctx[m]['cancel']}/cancel", headers=h, json={"reason": "declined"})),
    Route("POST /v1/bulk-bonuses (members in the body)", "points.bulk_bonus.run",
          lambda c, h, m, _: c.post("/v1/bulk-bonuses", headers=h, json={"member_ids": [m], "points": 5, "reason": "anniversary"})),
]


async def two_customers(pts, env) -> dict[str, dict[str, str]]:
    """IN and OUT with points, two visits each, and two reserved gifts each (one to hand over, one to cancel)."""
    for member_id, facts in FACTS.items():
        await pts.apply(
            pts.registered(member_id, home_store_id=facts.home_store_id), pts.assigned(member_id, facts.manager_id),
            pts.sale(member_id, "90000.00"), pts.milestone(member_id, "50000.00"),
        )
    await pts.stock("cushion", "S001", 20)
    admin = env.auth(Role.ADMIN)
    reserved: dict[str, dict[str, str]] = {}
    for member_id in FACTS:
        ids = []
        for _ in range(2):
            r = await pts.client.post("/v1/redemptions", json={"member_id": member_id, "gift_id": "cushion", "store_id": "S001"},
                                      headers={**admin, "Idempotency-Key": uuid.uuid4().hex})
            assert r.status_code == 201, r.text
            ids.append(r.json()["redemption_id"])
        reserved[member_id] = {"hand_over": ids[0], "cancel": ids[1]}
    return reserved


@pytest.mark.parametrize("route", ROUTES, ids=str)
async def test_every_role_reaches_exactly_the_customers_the_policy_gives_it(pts, env, route: Route) -> None:
    reserved = await two_customers(pts, env)
    wrong = []
    for role in Role:
        p = principal(role)
        for member_id in (IN, OUT):
            r = await route.call(pts.client, headers(env, p), member_id, reserved)
            expected = allowed(p, route.action, member_id)
            ok = r.status_code in ALLOWED_ANSWERS if expected else r.status_code == 403
            if not ok:
                wrong.append(f"{role.value} on {member_id}: {r.status_code} {r.text[:120]} (expected {'allowed' if expected else '403'})")
    assert not wrong, "\n".join(wrong)


async def test_an_account_manager_reads_only_the_ledgers_of_their_own_customers(pts, env) -> None:
    await two_customers(pts, env)
    am1 = headers(env, principal(Role.ACCOUNT_MANAGER))
    assert (await pts.client.get(f"/v1/accounts/{IN}/ledger", headers=am1)).status_code == 200
    theirs = await pts.client.get(f"/v1/accounts/{OUT}/ledger", headers=am1)
    assert theirs.status_code == 403 and "assigned to them" in theirs.json()["detail"]
    assert (await pts.client.get(f"/v1/accounts/{OUT}", headers=am1)).status_code == 403


async def test_marketing_reads_no_customers_ledger(pts, env) -> None:
    await two_customers(pts, env)
    marketing = env.auth(Role.MARKETING)
    for path in (f"/v1/accounts/{IN}", f"/v1/accounts/{IN}/ledger", f"/v1/entitlements/{IN}"):
        assert (await pts.client.get(path, headers=marketing)).status_code == 403, path
