"""Members service: profiles, cards, purchase history and lifetime spend."""

from pathlib import Path

from fastapi import FastAPI

from members.api.access import member_facts
from members.api.routes import (
    analytics,
    app_accounts,
    archive,
    communities,
    consents,
    evaluations,
    infobase,
    members,
    privacy,
    sales_import,
    sender,
    staff,
    tracking,
)
from members.config import Settings, get_settings
from members.consumers import batch_handlers, handlers
from members.jobs import scheduled_jobs
from members.service_layer.privacy import AccessLogWriter
from shared.clock import Clock, utc_now
from shared.service import ServiceSpec, build_service_app


def create_app(settings: Settings | None = None, clock: Clock = utc_now) -> FastAPI:
    settings = settings or get_settings()

    async def start_access_log(app: FastAPI) -> None:
        # Profile reads log who saw contact data in shared transactions (service_layer.privacy).
        app.state.access_log = AccessLogWriter(app.state.commands)
    return build_service_app(
        settings,
        ServiceSpec(
            title="CRM members",
            description="Customer profiles, points cards, purchase history and lifetime spend.",
            routers=[members.router, infobase.router, communities.router, analytics.router,
                     staff.router, staff.assignments, tracking.router, evaluations.router,
                     consents.router, privacy.router, archive.router, sender.router, app_accounts.router,
                     sales_import.router],
            handlers=handlers(settings, clock),
            batch_handlers=batch_handlers(settings, clock),
            member_facts=member_facts,
            migrations=Path(__file__).parent / "migrations",
            jobs=scheduled_jobs(settings),
            on_startup=[start_access_log],
        ),
        clock=clock,
    )
