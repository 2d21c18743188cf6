"""Points service: the points card (积分卡) ledger, earning rules, gifts and service entitlements."""

from pathlib import Path

from fastapi import FastAPI

from points.adapters.coupon_templates import CouponTemplates
from points.adapters.member_names import MemberNames
from points.api.routes import accounts, adjustments, catalogue, entitlements, member_gifts, redemptions, reports, rules
from points.config import Settings, get_settings
from points.consumers import batch_handlers, handlers
from points.jobs import scheduled_jobs
from shared.clock import Clock, utc_now
from shared.member_directory import member_facts
from shared.service import ServiceSpec, build_service_app


def create_app(
    settings: Settings | None = None, clock: Clock = utc_now, member_names: MemberNames | None = None,
    coupon_templates: CouponTemplates | None = None,
) -> FastAPI:
    """`member_names`: where the printed gift register gets customers' names; by default members at
    `settings.members_url`. `coupon_templates`: where a coupon item's template is checked; by
    default campaigns at `settings.campaigns_url`."""
    settings = settings or get_settings()
    names = member_names or MemberNames(settings.members_url, timeout_s=settings.members_timeout_s)
    templates = coupon_templates or CouponTemplates(settings.campaigns_url, timeout_s=settings.campaigns_timeout_s)

    async def open_names(app: FastAPI) -> None:
        app.state.member_names = names
        app.state.coupon_templates = templates

    async def close_names(app: FastAPI) -> None:
        await names.aclose()
        await templates.aclose()

    return build_service_app(
        settings,
        ServiceSpec(
            title="CRM points",
            description="Points card (积分卡): ledger, earning rules, returns, gift catalogue and register, "
            "service entitlements, adjustments and expiry.",
            routers=[
                accounts.router, rules.router, catalogue.router, redemptions.router, entitlements.router,
                adjustments.router, member_gifts.router, reports.router,
            ],
            handlers=handlers(settings, clock),
            batch_handlers=batch_handlers(settings, clock),
            migrations=Path(__file__).parent / "migrations",
            jobs=scheduled_jobs(settings),
            member_facts=member_facts,
            on_startup=[open_names],
            on_shutdown=[close_names],
        ),
        clock=clock,
    )
