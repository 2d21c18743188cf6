"""Every service's health as the operators' console shows it: each service's own `/health/live`
and `/health/ready`, asked concurrently with a short deadline each (a hung service is reported,
not waited for)."""

import asyncio
from typing import Any

import httpx

from gateway.domain.platform_health import ServiceHealth, judge

DEADLINE_S = 3.0


async def _get(client: httpx.AsyncClient, path: str) -> tuple[dict[str, Any] | None, str]:
    try:
        async with asyncio.timeout(DEADLINE_S):
            response = await client.get(path)
    except TimeoutError:
        return None, f"{path}: no answer within {DEADLINE_S}s"
    except httpx.HTTPError as exc:
        return None, f"{path}: unreachable ({type(exc).__name__})"
    try:
        body = response.json()
    except ValueError:
        return None, f"{path}: answered {response.status_code} without JSON"
    # A 503 from /health/ready still carries which check failed.
    return (body if isinstance(body, dict) else None), ""


async def _one(name: str, client: httpx.AsyncClient | None) -> ServiceHealth:
    if client is None:
        return judge(name, None, None, "not configured")
    (live, live_problem), (ready, ready_problem) = await asyncio.gather(_get(client, "/health/live"), _get(client, "/health/ready"))
    return judge(name, live, ready, "; ".join(p for p in (live_problem, ready_problem) if p))


async def platform_health(clients: dict[str, httpx.AsyncClient | None]) -> list[ServiceHealth]:
    return list(await asyncio.gather(*(_one(name, client) for name, client in clients.items())))
