"""A service's own bearer token, for calling another service as itself (role `service`).

The token comes from the gateway's identity endpoint in exchange for the service's client
credential (OAuth2 client credentials, RFC 6749 §4.4). `ServiceTokenSource.token()` answers the
cached token and fetches a new one shortly before it expires; callers under concurrency wait for
the one fetch in flight rather than each asking for their own.

    tokens = ServiceTokenSource(settings.identity_url, settings.service_client_id, secret)
    r = await http.get(url, headers={"Authorization": f"Bearer {await tokens.token()}"})
"""

import asyncio
import time
from collections.abc import Callable
from urllib.parse import quote_plus

import httpx

from shared.tls import client_tls

TOKEN_PATH = "/identity/v1/token"


class ServiceTokenError(RuntimeError):
    """The identity endpoint refused the credential, answered something that is not a token, or
    could not be reached; the message says which, with the endpoint and the client id."""


class ServiceTokenSource:
    def __init__(
        self, identity_url: str, client_id: str, client_secret: str, *, client: httpx.AsyncClient | None = None,
        refresh_before_s: float = 60.0, timeout_s: float = 5.0, monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (identity_url and client_id and client_secret):
            raise ValueError("a service token source needs the identity URL, a client id and its secret")
        self.url = identity_url.rstrip("/") + TOKEN_PATH
        self.client_id = client_id
        # RFC 6749 §2.3.1: each half is form-urlencoded before HTTP Basic joins them.
        self._auth = httpx.BasicAuth(quote_plus(client_id), quote_plus(client_secret))
        self._client = client or httpx.AsyncClient(timeout=timeout_s, verify=client_tls())
        self._owns_client = client is None
        self._refresh_before_s = refresh_before_s
        self._monotonic = monotonic
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        if self._token is not None and self._monotonic() < self._renew_at:
            return self._token
        async with self._lock:
            # Whoever waited here while another fetched finds the new token and goes on with it.
            if self._token is not None and self._monotonic() < self._renew_at:
                return self._token
            self._token, self._renew_at = await self._fetch()
            return self._token

    def forget(self) -> None:
        """Drops the cached token (after a service answered 401 to it, say): the next call fetches."""
        self._token, self._renew_at = None, 0.0

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def _fetch(self) -> tuple[str, float]:
        asked_at = self._monotonic()
        try:
            r = await self._client.post(self.url, data={"grant_type": "client_credentials"}, auth=self._auth)
        except httpx.HTTPError as exc:
            raise ServiceTokenError(f"identity endpoint {self.url} unreachable for client {self.client_id}: {exc!r}") from exc
        if r.status_code != 200:
            raise ServiceTokenError(
                f"identity endpoint {self.url} refused client {self.client_id}: {r.status_code} {_reason(r)}"
            )
        try:
            body = r.json()
            token, expires_in = body["access_token"], float(body["expires_in"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ServiceTokenError(f"identity endpoint {self.url} answered no token: {r.text[:200]!r}") from exc
        if not isinstance(token, str) or not token or expires_in <= 0:
            raise ServiceTokenError(f"identity endpoint {self.url} answered no usable token: {r.text[:200]!r}")
        # Renew a little before the end (from when we asked, so the trip does not count as life
        # left), and never later than halfway through a short-lived token.
        margin = min(self._refresh_before_s, expires_in / 2)
        return token, asked_at + expires_in - margin


def _reason(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.text[:200]
    if isinstance(body, dict):
        return str(body.get("error_description") or body.get("detail") or body.get("error") or body)[:200]
    return str(body)[:200]
