"""Admin trigger of the tier review job (it also runs on its own schedule)."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime

from members.service_layer.tiers import run_tier_review
from shared.auth import Principal, Role, require

router = APIRouter(prefix="/v1/tiers", tags=["tiers"])

AdminDep = Annotated[Principal, Depends(require(Role.ADMIN))]


@router.post("/jobs/tier-review/run")
async def run_review(
    request: Request, principal: AdminDep,
    as_of: Annotated[AwareDatetime | None, Query(description="The moment the review is held for; defaults to now")] = None,
) -> dict[str, Any]:
    """Holds the latest due tier review now, unless it was already held; returns the summary."""
    now = as_of or datetime.now(UTC)
    result = await run_tier_review(request.app, now)
    request.app.state.jobs.last_results["tier-review"] = {"started_at": now.isoformat(), **result}
    return result
