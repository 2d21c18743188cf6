"""Members service: profiles, cards, purchase history and lifetime spend."""

from pathlib import Path

from fastapi import FastAPI

from members.api.routes import members
from members.config import Settings, get_settings
from members.consumers import HANDLERS
from shared.service import ServiceSpec, build_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(
        settings or get_settings(),
        ServiceSpec(
            title="CRM members",
            description="Customer profiles, points cards, purchase history and lifetime spend.",
            routers=[members.router],
            handlers=HANDLERS,
            migrations=Path(__file__).parent / "migrations",
        ),
    )
