"""The scheduled jobs of every service, as the operators' console lists and runs them: through
each service's own `GET /v1/jobs` and `POST /v1/jobs/{name}/run`, with the operator's token, so
the services decide who may."""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from gateway.adapters.clients import segment
from shared.errors import Invalid, NotFound

DEADLINE_S = 3.0
# Running a job takes as long as the job does: a bulk expiry is minutes, not seconds.
RUN_DEADLINE_S = 300.0


@dataclass
class ServiceJobs:
    service: str
    jobs: list[dict[str, Any]] = field(default_factory=list)
    problem: str = ""


async def _jobs_of(service: str, client: httpx.AsyncClient | None, headers: dict[str, str]) -> ServiceJobs:
    if client is None:
        return ServiceJobs(service, problem="not configured")
    try:
        response = await client.get("/v1/jobs", headers=headers, timeout=DEADLINE_S)
    except httpx.HTTPError as exc:
        return ServiceJobs(service, problem=f"unreachable ({type(exc).__name__})")
    if response.status_code == 404:
        return ServiceJobs(service)  # a service without scheduled jobs has no such route
    if response.status_code != 200:
        return ServiceJobs(service, problem=f"answered {response.status_code}: {_detail(response)}")
    return ServiceJobs(service, jobs=response.json().get("items", []))


async def job_lists(clients: dict[str, httpx.AsyncClient | None], headers: dict[str, str]) -> list[ServiceJobs]:
    return list(await asyncio.gather(*(_jobs_of(name, client, headers) for name, client in clients.items())))


async def run_job(
    clients: dict[str, httpx.AsyncClient | None], headers: dict[str, str], service: str, name: str, as_of: datetime | None,
) -> dict[str, Any]:
    """{"status": code, "body": the service's answer}: the summary of the run, or why not."""
    client = clients.get(service)
    if service not in clients:
        raise Invalid("service", f"no service {service!r}; one of {', '.join(clients)}")
    if client is None:
        raise NotFound(f"{service} is not configured")
    if not name:
        raise Invalid("job", "required")
    # In UTC: a zone's offset of long ago is in seconds (Shanghai's +08:05:43 of 1900), which no
    # service reads as an offset.
    params = {"as_of": as_of.astimezone(UTC).isoformat()} if as_of is not None else {}
    try:
        response = await client.post(f"/v1/jobs/{segment(name)}/run", params=params, headers=headers, timeout=RUN_DEADLINE_S)
    except httpx.HTTPError as exc:
        return {"status": 503, "body": {"detail": f"{service} unreachable ({type(exc).__name__})"}}
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text[:300]}
    return {"status": response.status_code, "body": body}


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail"))[:300]
    except (ValueError, AttributeError):
        return response.text[:300]
