"""Feedback service. Complaints workflow, service recovery and satisfaction surveys."""

from pathlib import Path

from fastapi import FastAPI

from feedback.config import Settings, get_settings
from shared.service import ServiceSpec, build_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(
        settings or get_settings(),
        ServiceSpec(
            title="CRM feedback",
            description="Complaints workflow, service recovery and satisfaction surveys.",
            routers=[],
            migrations=Path(__file__).parent / "migrations",
        ),
    )
