"""What members' sign-in asks of the services behind the gateway, as the gateway itself (a service
token it mints with its own key): campaigns sends the code to the phone (POST /v1/messages/one-time),
members says whose phone it is (POST /v1/app-accounts/identify) and registers a customer signing up
(POST /v1/app-accounts). The phone travels in these request bodies only: never on Kafka, never in
a URL (URLs end up in access logs)."""

from collections.abc import Callable
from typing import Any

import httpx

from gateway.domain.refusals import as_body_errors
from shared.errors import ServiceError


class DownstreamError(ServiceError):
    """A service the sign-in needs could not be reached (503), did not answer in time (504), or
    refused the request; its status and reason are passed on (a 422 on a field of the sign-up)."""

    def __init__(self, status_code: int, detail: Any) -> None:
        super().__init__(str(detail))
        self.status_code = status_code
        self._detail = detail

    def detail(self) -> Any:
        return self._detail


class MemberAccounts:
    def __init__(self, members: httpx.AsyncClient, campaigns: httpx.AsyncClient | None, token: Callable[[], str],
                 timeout_s: float) -> None:
        self.members, self.campaigns, self.token, self.timeout_s = members, campaigns, token, timeout_s

    async def send_code(self, phone: str, code: str, minutes: int, language: str | None) -> None:
        if self.campaigns is None:
            raise DownstreamError(503, "campaigns service unavailable: not configured")
        body: dict[str, Any] = {"phone": phone, "template": "signin_code", "params": {"code": code, "minutes": str(minutes)}}
        if language:
            body["language"] = language
        await self._post(self.campaigns, "campaigns", "/v1/messages/one-time", body, ok=(201,))

    async def member_with_phone(self, phone: str) -> str | None:
        r = await self._post(self.members, "members", "/v1/app-accounts/identify", {"phone": phone}, ok=(200, 404))
        return None if r.status_code == 404 else str(r.json()["member_id"])

    async def sign_up(self, registration: dict[str, Any]) -> str:
        r = await self._post(self.members, "members", "/v1/app-accounts", registration, ok=(200, 201))
        return str(r.json()["member_id"])

    async def _post(self, client: httpx.AsyncClient, service: str, path: str, body: dict[str, Any],
                    ok: tuple[int, ...]) -> httpx.Response:
        try:
            r = await client.post(path, json=body, headers={"Authorization": f"Bearer {self.token()}"},
                                  timeout=self.timeout_s)
        except httpx.TimeoutException:
            raise DownstreamError(504, f"{service} service did not answer within {self.timeout_s}s") from None
        except httpx.HTTPError as exc:
            raise DownstreamError(503, f"{service} service unavailable: {type(exc).__name__}") from None
        if r.status_code in ok:
            return r
        if r.status_code == 422:  # a field of the sign-up the members service refuses: the caller's to fix
            # Members answers a rule its schema cannot check (a birthday in the future) as a string;
            # the caller gets every bad field of its body in the one shape of body validation.
            raise DownstreamError(422, as_body_errors(_detail(r)))
        # Anything else is the platform's fault, not the caller's (a 401 or 403 here means the
        # gateway's own token or grant is wrong): said as unavailable, with the reason for the log.
        raise DownstreamError(503, f"{service} service refused the gateway: {r.status_code} {str(_detail(r))[:200]}")


def _detail(r: httpx.Response) -> Any:
    try:
        return r.json().get("detail", r.text[:200])
    except (ValueError, AttributeError):
        return r.text[:200]
