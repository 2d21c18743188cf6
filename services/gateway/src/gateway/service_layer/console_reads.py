"""Reading and writing the services' APIs for a console page, with the logged-in person's token:
the service's answer, or its refusal as the same refusal here (its status and its detail), so the
page says what the service said."""

from collections.abc import Callable
from typing import Any

import httpx

from shared.errors import ServiceError

DEADLINE_S = 10.0


class ServiceRefused(ServiceError):
    """The service refused the request (4xx): answered with its status and detail."""

    def __init__(self, service: str, status_code: int, detail: str, said: Any = None) -> None:
        super().__init__(f"{service}: {detail}")
        self.status_code = status_code
        # The service's own `detail` as it answered it (pydantic's list of errors, with each one's
        # type and limits, or a sentence): what the console words for the person.
        self.said = detail if said is None else said


class ServiceUnavailable(ServiceError):
    status_code = 503


class ServiceFailed(ServiceError):
    """The service was reached and failed on the request (a 500: an error of its own, in its log);
    not a service that is down, which a moment's wait may cure."""

    status_code = 502


async def reach(client: httpx.AsyncClient | None, service: str, method: str, path: str, headers: dict[str, str], *,
                params: dict[str, str] | None = None, json: Any = None, timeout: float = DEADLINE_S) -> httpx.Response:
    """The service's answer, whatever its status; a service that does not answer (not configured,
    not reached, or a proxy's 502, 503 or 504 in its place) as `ServiceUnavailable`, which every
    console page words alike (`refusals.KNOWN`): for the pages that show a service's own answer as
    it came (a job's run), and for `call`."""
    if client is None:
        raise ServiceUnavailable(f"{service} is not configured")
    try:
        response = await client.request(method, path, headers=headers, params=params, json=json, timeout=timeout)
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(f"{service} cannot be reached ({type(exc).__name__})") from exc
    if response.status_code in (502, 503, 504):
        raise ServiceUnavailable(f"{service} answered {response.status_code}")
    return response


async def call(client: httpx.AsyncClient | None, service: str, method: str, path: str, headers: dict[str, str], *,
               params: dict[str, str] | None = None, json: Any = None,
               located: Callable[[Any], Any] | None = None, timeout: float = DEADLINE_S) -> httpx.Response:
    """The service's answer; a refusal as `ServiceRefused`, what it said put on the form's fields
    by `located` where the form names them otherwise (`domain.refusals.at_form_fields`)."""
    response = await reach(client, service, method, path, headers, params=params, json=json, timeout=timeout)
    if response.status_code >= 500:
        raise ServiceFailed(f"{service} failed with an error of its own ({response.status_code})")
    if response.status_code >= 400:
        said = _said(response)
        raise ServiceRefused(service, response.status_code, _detail(response), located(said) if located else said)
    return response


async def read(client: httpx.AsyncClient | None, service: str, path: str, headers: dict[str, str],
               params: dict[str, str] | None = None) -> Any:
    return (await call(client, service, "GET", path, headers, params=params)).json()


async def step_once(client: httpx.AsyncClient | None, service: str, path: str, step: str, headers: dict[str, str], *,
                    taken: Callable[[dict[str, Any]], bool], json: Any = None,
                    located: Callable[[Any], Any] | None = None) -> bool:
    """Takes `step` on the record at `path` (`POST <path>/<step>`); answers whether it was taken
    already. A 409 while the record, read again, is where the step leads (`taken`) is a second
    click, a resend after a slow answer, or a colleague a moment earlier: what the person wanted,
    for the page to show as done rather than refused. Any other refusal is raised, what it said
    put on the form's fields by `located`, as `call` does."""
    try:
        await call(client, service, "POST", f"{path}/{step}", headers, json=json, located=located)
    except ServiceRefused as refused:
        if refused.status_code != 409 or not taken(await read(client, service, path, headers)):
            raise
        return True
    return False


def _said(response: httpx.Response) -> Any:
    try:
        return response.json().get("detail")
    except (ValueError, AttributeError):
        return None


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return response.text[:300]
    if isinstance(detail, list):  # validation errors: each field and why
        return "; ".join(f"{'.'.join(str(p) for p in d.get('loc', [])[1:])}: {d.get('msg')}" for d in detail if isinstance(d, dict))
    return str(detail)[:300]
