"""Points service: the points card (积分卡) ledger, earning rules, gifts and service entitlements."""

from pathlib import Path

from fastapi import FastAPI

from points.api.routes import accounts, adjustments, catalogue, entitlements, member_gifts, redemptions, rules
from points.config import Settings, get_settings
from points.consumers import batch_handlers, handlers
from points.jobs import scheduled_jobs
from shared.clock import Clock, utc_now
from shared.member_directory import member_facts
from shared.service import ServiceSpec, build_service_app


def create_app(settings: Settings | None = None, clock: Clock = utc_now) -> FastAPI:
    settings = settings or get_settings()
    return build_service_app(
        settings,
        ServiceSpec(
            title="CRM points",
            description="Points card (积分卡): ledger, earning rules, returns, gift catalogue and register, "
            "service entitlements, adjustments and expiry.",
            routers=[
                accounts.router, rules.router, catalogue.router, redemptions.router, entitlements.router,
                adjustments.router, member_gifts.router,
            ],
            handlers=handlers(settings, clock),
            batch_handlers=batch_handlers(settings, clock),
            migrations=Path(__file__).parent / "migrations",
            jobs=scheduled_jobs(settings),
            member_facts=member_facts,
        ),
        clock=clock,
    )
