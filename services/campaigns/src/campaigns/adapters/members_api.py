"""Campaigns' calls to members, with the service's own bearer token (role `service`): the phone or
e-mail a message goes to and the family name it greets the member by, looked up at the moment of
sending (campaigns stores none of them and never sees them on the bus), the name and work phone of
the account manager a VIP's welcome introduces, looked up when the request is taken in (members'
request names the manager by id alone), and customers' replies to an SMS, which members judges and
records.

The token comes from a `TokenSource`: in production the client-credentials client of
`shared.service_token`, which fetches and renews the token from the identity endpoint.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol
from urllib.parse import quote

import httpx

from campaigns.adapters.outgoing import TransportError
from shared.service_token import ServiceTokenError
from shared.tls import client_tls


class TokenSource(Protocol):
    async def token(self) -> str: ...


class MembersUnavailable(Exception):
    """Members could not answer now (unreachable, too slow, 5xx): worth trying again later."""


class ReplyRefused(Exception):
    """Members refused the reply as malformed: pushing it again cannot help."""


class MembersClient:
    """One HTTP client to members for the service's lifetime; closed at shutdown."""

    def __init__(self, base_url: str, tokens: TokenSource, *, timeout_s: float,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.tokens = tokens
        self.http = httpx.AsyncClient(base_url=base_url, timeout=timeout_s, transport=transport, verify=client_tls())

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {await self.tokens.token()}"}
        try:
            response = await self.http.request(method, path, headers=headers, **kwargs)
        except httpx.TimeoutException as exc:
            raise MembersUnavailable(f"members did not answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise MembersUnavailable(f"members unreachable ({type(exc).__name__}: {exc})") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise MembersUnavailable(f"members answered {response.status_code}")
        return response

    async def aclose(self) -> None:
        await self.http.aclose()


@dataclass(frozen=True)
class Contact:
    phone: str | None
    email: str | None
    family_name: str | None
    gender: str

    def address(self, member_id: str, channel: Literal["sms", "email"]) -> str:
        field = "phone" if channel == "sms" else "email"
        if not (value := getattr(self, field)):
            raise TransportError(f"contact look-up: member {member_id} has no {field}", retryable=False)
        return str(value)


class ContactDirectory:
    """Where to send a member's message on a channel, and what to call them. A transport error
    either way: retryable when members could not answer, not retryable when it answered that there
    is nowhere to send to."""

    def __init__(self, members: MembersClient) -> None:
        self.members = members

    async def address(self, member_id: str, channel: Literal["sms", "email"]) -> str:
        return (await self.contact(member_id)).address(member_id, channel)

    async def contact(self, member_id: str) -> Contact:
        try:
            response = await self.members.request("GET", f"/v1/members/{quote(member_id, safe='')}/contact")
        except MembersUnavailable as exc:
            raise TransportError(f"contact look-up: {exc}") from exc
        if response.status_code == 404:
            raise TransportError(f"contact look-up: members knows no member {member_id}", retryable=False)
        if response.status_code in (401, 403):
            # The service's credential is refused: an operator must fix it; the message may wait.
            raise TransportError(f"contact look-up: members refused the service token ({response.status_code})")
        if response.status_code != 200:
            raise TransportError(f"contact look-up: members answered {response.status_code}", retryable=False)
        data = response.json()
        return Contact(phone=data.get("phone"), email=data.get("email"), family_name=data.get("family_name"),
                       gender=data.get("gender") or "unspecified")


@dataclass(frozen=True)
class Manager:
    name: str
    work_phone: str


class ManagerUnavailable(Exception):
    """Members could not say now who an account manager is (unreachable, 5xx, the service's token
    refused): the welcome waits for members (`service_layer.account_managers`), it is not failed."""


class UnknownManager(Exception):
    """Members answered that there is no such staff member (or refused the question as malformed):
    asking again cannot help."""


class StaffDirectory:
    """The name and work phone of an account manager, from members' staff directory
    (`GET /v1/staff/{id}`, `members.staff.read`)."""

    def __init__(self, members: MembersClient) -> None:
        self.members = members

    async def manager(self, staff_id: str) -> Manager:
        try:
            response = await self.members.request("GET", f"/v1/staff/{quote(staff_id, safe='')}")
        except (MembersUnavailable, ServiceTokenError) as exc:
            raise ManagerUnavailable(f"account manager look-up: {exc}") from exc
        if response.status_code == 404:
            raise UnknownManager(f"account manager look-up: members knows no staff member {staff_id}")
        if response.status_code in (401, 403):  # the service's credential: an operator fixes it, the welcome waits
            raise ManagerUnavailable(f"account manager look-up: members refused the service token ({response.status_code})")
        if response.status_code != 200:
            raise UnknownManager(f"account manager look-up: members answered {response.status_code}")
        data = response.json()
        return Manager(name=data["name"], work_phone=data["work_phone"])


@dataclass(frozen=True)
class ReplyAnswer:
    found: bool
    member_id: str | None
    opt_out: bool
    changed: bool


class ReplyForwarder:
    """Hands a customer's SMS reply to members, which decides whether it withdraws consent."""

    def __init__(self, members: MembersClient) -> None:
        self.members = members

    async def forward(self, phone: str, text: str, received_at: datetime) -> ReplyAnswer:
        """MembersUnavailable when members cannot take it now (the provider pushes again later),
        ReplyRefused when it never will."""
        body = {"phone": phone, "text": text, "received_at": received_at.isoformat()}
        response = await self.members.request("POST", "/v1/consents/replies", json=body)
        if response.status_code in (401, 403):  # the service's credential: an operator fixes it
            raise MembersUnavailable(f"members refused the service token ({response.status_code})")
        if response.status_code != 200:
            raise ReplyRefused(f"members answered {response.status_code}: {response.text[:200]}")
        data = response.json()
        return ReplyAnswer(found=bool(data["found"]), member_id=data.get("member_id"), opt_out=bool(data["opt_out"]),
                           changed=bool(data["changed"]))
