"""Marketing pages of the console: the segments, the campaigns, and a campaign's results
(redemption, and spend and visits per member against the held-out control group, with the uplift
and its 95% interval, drawn as charts). Campaigns' own API decides, with the person's token."""

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from gateway.adapters.clients import segment
from gateway.api.console.render import page
from gateway.api.console.session import Console, ConsoleUser
from gateway.domain.page_figures import bars, interval
from gateway.service_layer.console_people import display_names
from gateway.service_layer.console_reads import read
from shared.deps import UowDep

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)


def _campaigns(request: Request) -> Any:
    return request.app.state.downstream.campaigns


@router.get("/segments")
async def segments(request: Request, uow: UowDep, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    listed = await read(_campaigns(request), "campaigns", "/v1/segments", user.bearer())
    staff_names = await display_names(uow, [s.get("updated_by") for s in listed])
    return page(request, "staff/segments.html", user, segments=listed, staff_names=staff_names)


@router.get("/campaigns")
async def campaigns(request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    listed = await read(_campaigns(request), "campaigns", "/v1/campaigns", user.bearer(), {"limit": "200"})
    return page(request, "staff/campaigns.html", user, campaigns=listed)


@router.get("/campaigns/{campaign_id}")
async def campaign(campaign_id: str, request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    quoted = segment(campaign_id)
    found = await read(_campaigns(request), "campaigns", f"/v1/campaigns/{quoted}", user.bearer())
    results = await read(_campaigns(request), "campaigns", f"/v1/campaigns/{quoted}/results", user.bearer())
    arms = {name: [{"arm": "treatment", "value": results["treatment"][name]}, {"arm": "control", "value": results["control"][name]}]
            for name in ("spend_per_member", "visits_per_member")}
    uplifts = {name: (results[name], interval(Decimal(str(results[name]["difference"])), _dec(results[name]["low"]), _dec(results[name]["high"])))
               for name in ("spend_uplift", "visits_uplift") if results.get(name)}
    return page(request, "staff/campaign.html", user, campaign=found, results=results, uplifts=uplifts,
                spend_bars=bars(arms["spend_per_member"], "arm", "value"), visit_bars=bars(arms["visits_per_member"], "arm", "value"))


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
