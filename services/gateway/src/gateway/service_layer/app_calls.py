"""Calls the member app makes to the services, with the member's own token.

Each service decides for itself (its access policy, scope SELF); the gateway only puts the
member id from the token into the path. A service's refusal is relayed as it came (status and
detail, plus any other field it set), a service that cannot be reached is 503 and one that does not
answer in time 504, as for every forwarded request.
"""

from dataclasses import dataclass
from typing import Any

import httpx

from gateway.adapters.clients import Downstream, Unreachable, answered_by, as_received
from shared.errors import ServiceError


class Relayed(ServiceError):
    """A service's refusal, answered to the app with the service's status and body."""

    def __init__(self, status: int, body: Any) -> None:
        self.status_code = status
        self.body = body if isinstance(body, dict) else {"detail": body}
        super().__init__(str(self.body.get("detail")))

    def detail(self) -> Any:
        return self.body.get("detail")

    def extra(self) -> dict[str, Any]:
        return {k: v for k, v in self.body.items() if k != "detail"}


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


@dataclass(frozen=True)
class MemberCalls:
    downstream: Downstream
    authorization: str
    timeout: float
    accept_language: str | None = None

    def _client(self, service: str) -> httpx.AsyncClient:
        client: httpx.AsyncClient | None = getattr(self.downstream, service, None)
        if client is None:
            raise Unreachable(f"{service} service unavailable: not configured")
        return client

    async def send(
        self, method: str, service: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
        idempotency_key: str | None = None,
    ) -> Answer:
        headers = {b"Authorization": as_received(self.authorization)}
        if self.accept_language:
            headers[b"Accept-Language"] = as_received(self.accept_language)
        if idempotency_key is not None:
            headers[b"Idempotency-Key"] = as_received(idempotency_key)
        with answered_by(service, self.timeout):
            response = await self._client(service).request(
                method, path, params=params, json=json, headers=headers,
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 1.0)),
            )
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = {"detail": response.text[:200]}
        if response.status_code >= 400:
            raise Relayed(response.status_code, body)
        return Answer(response.status_code, body)

    async def get(self, service: str, path: str, params: dict[str, Any] | None = None) -> Any:
        return (await self.send("GET", service, path, params=params)).body
