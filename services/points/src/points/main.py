"""Points service: the points card ledger."""

from pathlib import Path

from fastapi import FastAPI

from points.api.routes import accounts
from points.config import Settings, get_settings
from points.consumers import HANDLERS
from shared.service import ServiceSpec, build_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_service_app(
        settings or get_settings(),
        ServiceSpec(
            title="CRM points",
            description="Points card (积分卡) ledger: earning from sales, balances and history.",
            routers=[accounts.router],
            handlers=HANDLERS,
            migrations=Path(__file__).parent / "migrations",
        ),
    )
