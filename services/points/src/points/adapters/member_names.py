"""Customers' names for the gift register on paper, asked of members at the moment of printing.

Names are personal data: points keeps none and never receives them on the bus. A printed register
asks members for each customer on it with the caller's own token, so members' access policy
decides whose name (and how much of it) the person printing may see; a customer members will not
show them is printed by id. Members unreachable, slow or failing is an error of the print
(`MembersUnavailable`), never a register silently printed without names.
"""

import asyncio
from collections.abc import Iterable
from urllib.parse import quote

import httpx

from shared.errors import ServiceError
from shared.tls import client_tls

# A day's register holds tens of entries; a month's a few hundred. Members is asked a few at a time.
CONCURRENT_LOOKUPS = 8


class MembersUnavailable(ServiceError):
    status_code = 503


class MemberNames:
    """One HTTP client to members for the service's lifetime; closed at shutdown."""

    def __init__(self, base_url: str, *, timeout_s: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=timeout_s, transport=transport, verify=client_tls())

    async def names(self, member_ids: Iterable[str], bearer: str) -> dict[str, str]:
        """member id -> "name (card no.)" for each customer members shows to the token's holder."""
        gate = asyncio.Semaphore(CONCURRENT_LOOKUPS)

        async def one(member_id: str) -> tuple[str, str | None]:
            async with gate:
                return member_id, await self._name(member_id, bearer)

        found = await asyncio.gather(*(one(i) for i in sorted(set(member_ids))))
        return {member_id: name for member_id, name in found if name is not None}

    async def _name(self, member_id: str, bearer: str) -> str | None:
        try:
            response = await self.http.get(f"/v1/members/{quote(member_id, safe='')}",
                                           headers={"Authorization": f"Bearer {bearer}"})
        except httpx.TimeoutException as exc:
            raise MembersUnavailable(f"members did not answer in time for customers' names ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise MembersUnavailable(f"members unreachable for customers' names ({type(exc).__name__})") from exc
        if response.status_code in (403, 404):
            return None  # not this person's to see, or unknown to members: printed by id
        if response.status_code != 200:
            raise MembersUnavailable(f"members answered {response.status_code} for customers' names")
        member = response.json()
        return f"{member['name']} ({member['card_no']})" if member.get("card_no") else str(member["name"])

    async def aclose(self) -> None:
        await self.http.aclose()
