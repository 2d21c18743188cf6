"""Every service's health as the operators' console shows it: each service's own `/health/live`
and `/health/ready`, asked concurrently with a short deadline each (a hung service is reported,
not waited for)."""

import asyncio
from typing import Any

import httpx

from gateway.domain.platform_health import ServiceHealth, Unanswered, judge, merged

DEADLINE_S = 3.0


async def _get(client: httpx.AsyncClient, path: str) -> tuple[dict[str, Any] | None, Unanswered | None]:
    try:
        async with asyncio.timeout(DEADLINE_S):
            response = await client.get(path)
    except TimeoutError:
        return None, Unanswered("timeout", (path,), seconds=DEADLINE_S)
    except httpx.ConnectError as exc:
        return None, Unanswered("connect", (path,), type(exc).__name__)
    except httpx.HTTPError as exc:
        return None, Unanswered("unreachable", (path,), type(exc).__name__)
    try:
        body = response.json()
    except ValueError:
        return None, Unanswered("no_report", (path,), status=response.status_code)
    # A 503 from /health/ready still carries which check failed.
    return (body if isinstance(body, dict) else None), None


async def _one(name: str, client: httpx.AsyncClient | None) -> ServiceHealth:
    if client is None:
        return judge(name, None, None, (Unanswered("not_configured"),))
    (live, live_problem), (ready, ready_problem) = await asyncio.gather(_get(client, "/health/live"), _get(client, "/health/ready"))
    return judge(name, live, ready, merged([live_problem, ready_problem]))


async def platform_health(clients: dict[str, httpx.AsyncClient | None]) -> list[ServiceHealth]:
    return list(await asyncio.gather(*(_one(name, client) for name, client in clients.items())))
