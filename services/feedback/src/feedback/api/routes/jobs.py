"""Run a scheduled job now (admins), e.g. the escalation check after changing deadlines."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status

from shared.auth import Principal, Role, require

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.post("/{name}/run")
async def run_job(name: str, request: Request, _: Annotated[Principal, Depends(require(Role.ADMIN))]) -> dict[str, Any]:
    runner = request.app.state.jobs
    job = next((j for j in runner.jobs if j.name == name), None)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {name}; jobs: {', '.join(j.name for j in runner.jobs)}")
    return await runner.run_once(job, now=request.app.state.clock())
