"""The scheduled jobs of every service, as the operators' console lists and runs them: through
each service's own `GET /v1/jobs` and `POST /v1/jobs/{name}/run`, with the operator's token, so
the services decide who may."""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from gateway.adapters.clients import segment
from gateway.service_layer.console_reads import ServiceRefused, call, reach
from shared.errors import Invalid, ServiceError

DEADLINE_S = 3.0
# Running a job takes as long as the job does: a bulk expiry is minutes, not seconds.
RUN_DEADLINE_S = 300.0


@dataclass
class ServiceJobs:
    service: str
    jobs: list[dict[str, Any]] = field(default_factory=list)
    # Why the jobs could not be listed (the service does not answer, or refused the operator), as
    # every console page's call raises it: the page words it as the console words any refusal.
    problem: ServiceError | None = None


async def _jobs_of(service: str, client: httpx.AsyncClient | None, headers: dict[str, str]) -> ServiceJobs:
    try:
        response = await call(client, service, "GET", "/v1/jobs", headers, timeout=DEADLINE_S)
    except ServiceRefused as refused:
        if refused.status_code == 404:
            return ServiceJobs(service)  # a service without scheduled jobs has no such route
        return ServiceJobs(service, problem=refused)
    except ServiceError as away:
        return ServiceJobs(service, problem=away)
    return ServiceJobs(service, jobs=response.json().get("items", []))


async def job_lists(clients: dict[str, httpx.AsyncClient | None], headers: dict[str, str]) -> list[ServiceJobs]:
    return list(await asyncio.gather(*(_jobs_of(name, client, headers) for name, client in clients.items())))


async def run_job(
    clients: dict[str, httpx.AsyncClient | None], headers: dict[str, str], service: str, name: str, as_of: datetime | None,
) -> dict[str, Any]:
    """{"status": code, "body": the service's answer}: the summary of the run, or why not. A service
    that does not answer is raised (`console_reads.ServiceUnavailable`), as on every console page:
    it said nothing to show."""
    if service not in clients:
        raise Invalid("service", f"no service {service!r}; one of {', '.join(clients)}")
    if not name:
        raise Invalid("job", "required")
    # In UTC: a zone's offset of long ago is in seconds (Shanghai's +08:05:43 of 1900), which no
    # service reads as an offset.
    params = {"as_of": as_of.astimezone(UTC).isoformat()} if as_of is not None else {}
    response = await reach(clients[service], service, "POST", f"/v1/jobs/{segment(name)}/run", headers, params=params,
                           timeout=RUN_DEADLINE_S)
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text[:300]}
    return {"status": response.status_code, "body": body}
