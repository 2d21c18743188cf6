"""Campaigns' coupon templates, asked when a coupon item is put in the gift catalogue.

A coupon item names the campaigns template whose coupon a member buys with points; campaigns issues
it when it hears of the redemption. A template campaigns does not have would take the member's
points for nothing (the entry is complete at once, and campaigns could only dead-letter the event),
so the catalogue takes only a template campaigns answers for, asked with the caller's own token.
Campaigns unreachable is an error of the change (503), never an item put unchecked.
"""

from urllib.parse import quote

import httpx

from shared.errors import Invalid, ServiceError
from shared.tls import client_tls


class CampaignsUnavailable(ServiceError):
    status_code = 503


class CouponTemplates:
    """One HTTP client to campaigns for the service's lifetime; closed at shutdown."""

    def __init__(self, base_url: str, *, timeout_s: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=timeout_s, transport=transport, verify=client_tls())

    async def ensure_exists(self, template_id: str, bearer: str) -> None:
        try:
            response = await self.http.get(f"/v1/coupon-templates/{quote(template_id, safe='')}",
                                           headers={"Authorization": f"Bearer {bearer}"})
        except httpx.TransportError as exc:
            raise CampaignsUnavailable(f"campaigns unreachable to check coupon_template_id ({type(exc).__name__})") from exc
        if response.status_code == 404:
            raise Invalid("coupon_template_id", f"campaigns has no coupon template {template_id}")
        if response.status_code != 200:
            raise CampaignsUnavailable(f"campaigns answered {response.status_code} for coupon template {template_id}")

    async def aclose(self) -> None:
        await self.http.aclose()
