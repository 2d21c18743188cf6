"""Gateway: POS entry, the customer-360 view and staff access to the services behind it."""

from pathlib import Path

from fastapi import FastAPI

from gateway.adapters.clients import close_clients, open_clients
from gateway.api.routes import customers, members, passthrough, pos, pos_coupons, pos_points, stores, surveys
from gateway.config import Settings, get_settings
from shared.clock import Clock, utc_now
from shared.service import ServiceSpec, build_service_app


def create_app(settings: Settings | None = None, clock: Clock = utc_now) -> FastAPI:
    return build_service_app(
        settings or get_settings(),
        ServiceSpec(
            title="CRM gateway",
            description="POS sales, returns and coupons, member registration and look-up, the customer-360 view and survey links.",
            # The pass-through comes last: the explicit routes above take precedence.
            routers=[pos.router, pos_points.router, pos_coupons.router, members.router, customers.router, stores.router, surveys.router,
                     passthrough.router],
            migrations=Path(__file__).parent / "migrations",
            on_startup=[open_clients],
            on_shutdown=[close_clients],
        ),
        clock=clock,
    )
