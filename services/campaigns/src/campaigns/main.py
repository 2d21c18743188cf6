"""Campaigns service. Segments, campaigns, coupons, personal discount lists and notifications."""

from pathlib import Path

from fastapi import FastAPI

from campaigns.adapters.members_api import TokenSource
from campaigns.adapters.transports import providers_for
from campaigns.api.routes import (
    campaigns,
    coupons,
    member_overview,
    messages,
    offers,
    one_time_messages,
    provider_callbacks,
    segments,
)
from campaigns.config import Settings, get_settings
from campaigns.consumers import batch_handlers, handlers
from campaigns.jobs import scheduled_jobs
from shared.clock import Clock, utc_now
from shared.member_directory import member_facts
from shared.service import ServiceSpec, build_service_app
from shared.service_token import ServiceTokenSource


def create_app(settings: Settings | None = None, clock: Clock = utc_now, tokens: TokenSource | None = None) -> FastAPI:
    """`tokens` gives the service's own bearer token for its calls to members (contacts, account
    managers, SMS replies): by default the client credential of its settings exchanged at the
    gateway's identity endpoint; without either every channel must use the local outbox."""
    settings = settings or get_settings()
    if tokens is None and settings.service_client_id:
        tokens = ServiceTokenSource(settings.identity_url, settings.service_client_id,
                                    settings.service_client_secret.get_secret_value())

    async def open_providers(app: FastAPI) -> None:
        app.state.providers = providers_for(settings, tokens)

    async def close_providers(app: FastAPI) -> None:
        await app.state.providers.aclose()
        if isinstance(tokens, ServiceTokenSource):
            await tokens.aclose()

    app = build_service_app(
        settings,
        ServiceSpec(
            title="CRM campaigns",
            description="Segments, campaigns, coupons, personal discount lists and notifications.",
            routers=[
                segments.router,
                campaigns.router,
                coupons.router,
                messages.router,
                member_overview.router,
                one_time_messages.router,
                provider_callbacks.router,
                offers.router,
            ],
            # The consumer's handlers and the dispatch job read the providers made at start-up
            # (late: the app exists by then): members' directories, the transports.
            handlers=handlers(settings, clock, lambda: app.state.providers),
            batch_handlers=batch_handlers(settings, clock, lambda: app.state.providers),
            migrations=Path(__file__).parent / "migrations",
            jobs=scheduled_jobs(settings, lambda: app.state.providers),
            on_startup=[open_providers],
            on_shutdown=[close_providers],
            member_facts=member_facts,
        ),
        clock=clock,
    )
    return app
