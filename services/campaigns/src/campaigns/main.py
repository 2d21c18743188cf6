"""Campaigns service. Segments, campaigns, coupons, personal discount lists and notifications."""

from pathlib import Path

from fastapi import FastAPI

from campaigns.api.routes import campaigns, coupons, messages, offers, segments
from campaigns.config import Settings, get_settings
from campaigns.consumers import batch_handlers, handlers
from campaigns.jobs import scheduled_jobs
from shared.clock import Clock, utc_now
from shared.member_directory import member_facts
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
                campaigns.router,
                coupons.router,
                messages.router,
                offers.router,
            ],
            handlers=handlers(settings, clock),
            batch_handlers=batch_handlers(settings, clock),
            migrations=Path(__file__).parent / "migrations",
            jobs=scheduled_jobs(settings),
            member_facts=member_facts,
        ),
        clock=clock,
    )
