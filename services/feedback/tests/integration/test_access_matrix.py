"""Every role against an in-scope and an out-of-scope customer, on every feedback route that reads
or changes a customer's data, through the real app. The expectations are derived from
shared.policy.POLICY, so this test follows the table.

The customers come from members' events: m-in of store S001 managed by am-1, m-out of store S002
managed by am-2 (VIPs, so their complaints are assigned to their managers). Store-bound tokens are
bound to S001, the account manager is am-1 and the member is m-in, so m-in and their complaints lie
within every scope (STORE, ASSIGNED, SELF) and m-out within ALL only. Routes that reach a complaint
rather than name a customer also keep a store-bound token to its store (a desk of S001 does not
open S002's complaints, though its scope is ALL).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from shared.auth import Role
from shared.policy import POLICY, Scope
from tests.support.factories import keyed

pytestmark = pytest.mark.integration

IN, OUT = "m-in", "m-out"
HOME = {IN: "S001", OUT: "S002"}
CLAIMS: dict[Role, dict[str, Any]] = {
    Role.SERVICE_DESK: {"store_id": "S001"}, Role.STORE_MANAGER: {"store_id": "S001"}, Role.POS: {"store_id": "S001"},
    Role.ACCOUNT_MANAGER: {"subject": "am-1"}, Role.MEMBER: {"member_id": IN},
}
ALL_FIVE = {"product_quality": 5, "service": 4, "price": 3, "store_environment": 5, "after_sales": 2}


@dataclass(frozen=True)
class Case:
    name: str
    action: str
    success: int
    # Reaches a complaint (store binding applies) rather than naming the customer.
    complaint_level: bool
    call: Callable[[Any, str, dict[str, str]], Awaitable[httpx.Response]]


async def _complaint(fb, member_id: str, *steps: tuple[str, dict]) -> str:
    """A complaint of the customer at their home store, filed and moved along by an admin."""
    c = await fb.file(headers=fb.admin(), member_id=member_id, store_id=HOME[member_id])
    for action, body in steps:
        await fb.ok(c["id"], action, headers=fb.admin(), **body)
    return c["id"]


ACK, RESOLVE = ("acknowledge", {}), ("resolve", {"note": "ok"})


def _on_complaint(action: str, body: dict | Callable[[str], dict] | None, *steps: tuple[str, dict]):
    """`body` may depend on the customer (a callable of their id)."""
    async def call(fb, member_id: str, headers: dict[str, str]) -> httpx.Response:
        complaint_id = await _complaint(fb, member_id, *steps)
        json = body(member_id) if callable(body) else body
        return await fb.client.post(f"/v1/complaints/{complaint_id}/{action}", json=json, headers=headers)
    return call


async def _read_complaint(fb, member_id: str, headers: dict[str, str]) -> httpx.Response:
    return await fb.client.get(f"/v1/complaints/{await _complaint(fb, member_id)}", headers=headers)


async def _file(fb, member_id: str, headers: dict[str, str]) -> httpx.Response:
    body = {"member_id": member_id, "store_id": "S001", "category": "price", "severity": "low", "description": "价签错误"}
    return await fb.client.post("/v1/complaints", json=body, headers=keyed(headers))


def _get(path: str):
    async def call(fb, member_id: str, headers: dict[str, str]) -> httpx.Response:
        return await fb.client.get(path, params={"member_id": member_id}, headers=headers)
    return call


async def _comment_book(fb, member_id: str, headers: dict[str, str]) -> httpx.Response:
    body = {"kind": "praise", "text": "服务很好", "member_id": member_id, "store_id": "S001"}
    return await fb.client.post("/v1/comment-book", json=body, headers=headers)


async def _survey_token(fb, member_id: str) -> str:
    """The link of a fresh survey invitation of the customer, as only they can list it."""
    complaint_id = await _complaint(fb, member_id, ACK, RESOLVE)
    sent = (await fb.client.get(f"/v1/complaints/{complaint_id}", headers=fb.admin())).json()["survey"]
    links = (await fb.client.get("/v1/surveys/invitations", headers=fb.member(member_id))).json()
    [link] = [i["link"] for i in links if i["id"] == sent["id"]]
    return link.rsplit("/", 1)[1]


async def _survey_form(fb, member_id: str, headers: dict[str, str]) -> httpx.Response:
    return await fb.client.get(f"/v1/surveys/answers/{await _survey_token(fb, member_id)}", headers=headers)


async def _answer(fb, member_id: str, headers: dict[str, str]) -> httpx.Response:
    token = await _survey_token(fb, member_id)
    return await fb.client.post(f"/v1/surveys/answers/{token}", json={"ratings": ALL_FIVE, "nps": 9}, headers=headers)


CASES = [
    Case("file a complaint for the customer", "feedback.complaint.file", 201, False, _file),
    Case("list the customer's complaints", "feedback.complaint.read", 200, False, _get("/v1/complaints")),
    Case("list the customer's survey links", "feedback.survey.invitations", 200, False, _get("/v1/surveys/invitations")),
    Case("list the surveys sent to the customer", "feedback.survey.sent", 200, False, _get("/v1/surveys/sent")),
    Case("export what feedback keeps about the customer", "feedback.privacy.export", 200, False,
         lambda fb, member_id, headers: fb.client.get(f"/v1/members/{member_id}/export", headers=headers)),
    Case("name the customer in the comment book", "feedback.comment_book.use", 201, False, _comment_book),
    Case("open the customer's survey", "feedback.survey.answer", 200, False, _survey_form),
    Case("answer the customer's survey", "feedback.survey.answer", 201, False, _answer),
    Case("read the customer's complaint", "feedback.complaint.read", 200, True, _read_complaint),
    Case("acknowledge", "feedback.complaint.handle", 200, True, _on_complaint("acknowledge", None)),
    Case("start", "feedback.complaint.handle", 200, True, _on_complaint("start", None, ACK)),
    Case("resolve", "feedback.complaint.handle", 200, True, _on_complaint("resolve", {"note": "ok"}, ACK)),
    Case("close", "feedback.complaint.handle", 200, True, _on_complaint("close", None, ACK, RESOLVE)),
    # Handed up to the manager of the store the complaint was lodged at (its customer's home store).
    Case("reassign", "feedback.complaint.handle", 200, True,
         _on_complaint("assign", lambda member_id: {"assignee": f"store_manager:{HOME[member_id]}"})),
    Case("reopen", "feedback.complaint.comment", 200, True, _on_complaint("reopen", {"reason": "x"}, ACK, RESOLVE)),
    Case("rate", "feedback.complaint.comment", 200, True, _on_complaint("rating", {"score": 4}, ACK, RESOLVE)),
]


def allowed(role: Role, case: Case, member_id: str) -> bool:
    scope = POLICY[case.action].get(role)
    if scope is None:
        return False
    if member_id == IN:  # within every scope by construction
        return True
    store_bound = "store_id" in CLAIMS.get(role, {})
    return scope is Scope.ALL and not (case.complaint_level and store_bound)


def _token(fb, role: Role) -> dict[str, str]:
    claims = dict(CLAIMS.get(role, {}))
    return fb.as_(role, claims.pop("subject", f"test-{role.value}"), **claims)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
async def test_every_role_reaches_exactly_the_customers_the_policy_gives_it(fb, role: Role) -> None:
    await fb.register(IN, "S001", manager_id="am-1")
    await fb.register(OUT, "S002", manager_id="am-2")
    headers = _token(fb, role)
    wrong = []
    for case in CASES:
        for member_id in (IN, OUT):
            r = await case.call(fb, member_id, headers)
            expected = case.success if allowed(role, case, member_id) else 403
            if r.status_code != expected:
                wrong.append(f"{case.name} ({case.action}) for {member_id}: expected {expected}, got {r.status_code} {r.text[:120]}")
    assert wrong == []
