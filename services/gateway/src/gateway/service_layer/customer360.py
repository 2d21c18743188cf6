"""The customer-360 view: one member's profile, spend, purchases, points, coupons, messages and
complaints, fetched concurrently.

Each section has its own deadline; a section whose service is slow or down is reported under
`unavailable` and the rest of the page still comes back.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import httpx

from gateway.adapters.clients import Downstream, segment
from gateway.domain.customer360 import Customer360, Unavailable
from shared.errors import Forbidden, NotFound, Overloaded

log = logging.getLogger(__name__)


class MemberNotFound(NotFound):
    pass


class Refused(Forbidden):
    """A service refused the caller this customer's data: the whole view is refused (403)."""


class Admission:
    """At most `limit` views of this process fan out at once; the others wait their turn, up to
    `wait_s`, and are then refused (503). A view admitted has the machine to itself with the few
    others, so its sections meet their deadlines; all admitted at once, every view's sections
    queue behind every other's in the services and some miss theirs."""

    def __init__(self, limit: int, wait_s: float) -> None:
        self._slots = asyncio.Semaphore(limit)
        self.wait_s = wait_s
        self.waiting = 0  # views waiting for their turn now

    @contextlib.asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        self.waiting += 1
        try:
            async with asyncio.timeout(self.wait_s):
                await self._slots.acquire()
        except TimeoutError:
            raise Overloaded("customer-360: too many views at once; try again in a moment", retry_after_s=1) from None
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._slots.release()


@dataclass
class _Section:
    name: str
    body: Any = None
    missing: bool = False
    failure: str | None = None
    refused: str | None = None


async def _fetch(name: str, client: httpx.AsyncClient, path: str, headers: dict[str, str], timeout: float) -> _Section:
    try:
        async with asyncio.timeout(timeout):
            response = await client.get(path, headers=headers)
    except TimeoutError:
        return _failed(name, f"timed out after {timeout}s")
    except httpx.HTTPError as exc:
        return _failed(name, f"unreachable: {type(exc).__name__}")
    if response.status_code == 404:
        return _Section(name, missing=True)
    if response.status_code in (401, 403):
        return _Section(name, refused=f"{name}: {response.json().get('detail')}")
    if response.status_code >= 400:
        return _failed(name, f"answered {response.status_code}")
    return _Section(name, body=response.json())


def _failed(name: str, why: str) -> _Section:
    # Logged here: the view only tells staff a section is missing, and a timeout or a refused
    # connection never reaches the service's own logs.
    log.warning("customer-360 section %s unavailable: %s", name, why)
    return _Section(name, failure=why)


async def _optional(
    name: str, client: httpx.AsyncClient | None, service: str, path: str, headers: dict[str, str], timeout: float
) -> _Section:
    """A section from a service the gateway may run without (feedback, campaigns)."""
    if client is None:
        return _Section(name, failure=f"{service} service not configured")
    return await _fetch(name, client, path, headers, timeout)


async def customer_360(downstream: Downstream, member_id: str, authorization: str, timeout: float) -> Customer360:
    headers = {"Authorization": authorization}
    # The id is pasted into downstream paths: quoted, so that "x?y" or "../z" is a member id
    # (one that does not exist), never a different path or query.
    quoted = segment(member_id)
    # Four calls for the six sections: members answers the profile with the purchases, campaigns
    # the coupons with the messages (each service's `/overview`), each call costing its service
    # and the gateway about as much as a section alone.
    async with asyncio.TaskGroup() as tg:
        overview = tg.create_task(
            _fetch("member", downstream.members, f"/v1/members/{quoted}/overview?purchases=10", headers, timeout)
        )
        points = tg.create_task(_fetch("points", downstream.points, f"/v1/accounts/{quoted}?entries=10", headers, timeout))
        # The member's latest complaints (summaries, no free text), open and overdue ones first.
        complaints = tg.create_task(_optional(
            "complaints", downstream.feedback, "feedback", "/v1/complaints?" + urlencode({"member_id": member_id, "limit": 10}),
            headers, timeout))
        # Staff see every message status (a cancelled one says why); a member sees what reached them.
        outreach = tg.create_task(_optional(
            "coupons", downstream.campaigns, "campaigns", f"/v1/members/{quoted}/overview?messages=10", headers, timeout))
    member, purchases = _split(overview.result(), "member", "purchases", "recent_purchases")
    coupons, messages = _split(outreach.result(), "coupons", "messages", "messages")
    sections = {s.name: s for s in (member, purchases, points.result(), complaints.result(), coupons, messages)}
    if refusals := list(dict.fromkeys(s.refused for s in sections.values() if s.refused)):
        raise Refused("; ".join(refusals))
    if sections["member"].missing:
        raise MemberNotFound(f"no member {member_id}")

    profile = sections["member"].body
    points_body = sections["points"].body
    if sections["points"].missing:  # no account yet: nothing earned, not an outage
        points_body = {"member_id": member_id, "balance": 0, "entries": []}
    coupons_body = [] if sections["coupons"].missing else sections["coupons"].body  # unknown to campaigns: none
    messages_body = [] if sections["messages"].missing else sections["messages"].body
    return Customer360(
        member_id=member_id,
        member=profile,
        lifetime_spend=profile["lifetime_spend"] if profile else None,
        purchase_count=profile["purchase_count"] if profile else None,
        recent_purchases=sections["purchases"].body,
        points=points_body,
        complaints=sections["complaints"].body,
        coupons=coupons_body,
        messages=messages_body,
        unavailable=[Unavailable(section=s.name, reason=s.failure) for s in sections.values() if s.failure],
    )


def _split(answer: _Section, first: str, second: str, second_key: str) -> tuple[_Section, _Section]:
    """Two sections from one service's overview: the first under its own name, the second under
    `second_key`; a failure, refusal or 404 of the call is both sections'."""
    if answer.body is None:
        return answer, replace(answer, name=second)
    return _Section(first, body=answer.body[first]), _Section(second, body=answer.body[second_key])
