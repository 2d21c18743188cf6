"""Campaigns service. Segments, campaigns, coupons, personal discount lists and notifications."""

from pathlib import Path

from fastapi import FastAPI

from campaigns.api.routes import segments
from campaigns.config import Settings, get_settings
from campaigns.consumers import handlers
from shared.clock import Clock, utc_now
from shared.service import ServiceSpec, build_service_app


def create_app(settings: Settings | None = None, clock: Clock = utc_now) -> FastAPI:
    settings = settings or get_settings()
    return build_service_app(
        settings,
        ServiceSpec(
            title="CRM campaigns",
            description="Segments, campaigns, coupons, personal discount lists and notifications.",
            routers=[
                segments.router,
            ],
            handlers=handlers(settings, clock),
            migrations=Path(__file__).parent / "migrations",
        ),
        clock=clock,
    )
