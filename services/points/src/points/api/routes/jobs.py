"""Run a scheduled job now (admin): the same code the schedule runs, with the summary returned."""

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status

from points.api.access import AdminDep

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.post("/{name}/run")
async def run_job(name: str, _: AdminDep, request: Request) -> dict[str, Any]:
    runner = request.app.state.jobs
    job = next((j for j in runner.jobs if j.name == name), None)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {name}; jobs: {', '.join(j.name for j in runner.jobs)}")
    return await runner.run_once(job)
