"""Gateway: POS entry, the customer-360 view, staff access to the services behind it, and identity
(client credentials of tills and services exchanged for tokens; staff accounts and their logins;
members' sign-in by SMS code)."""

from datetime import timedelta
from functools import partial
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from gateway.adapters.clients import close_clients, open_clients
from gateway.adapters.member_revocations import RevokedMembers
from gateway.adapters.revocations import RevokedTills
from gateway.adapters.signing import open_identity
from gateway.api.app_http import AppHttpMiddleware
from gateway.api.console.render import (
    forbidden_handler,
    login_needed,
    not_found_handler,
    refusal_handler,
    validation_handler,
)
from gateway.api.console.session import LoginNeeded, Successors
from gateway.api.routes import (
    app_card,
    app_feedback,
    app_me,
    app_shopping,
    console_accounts,
    console_analytics,
    console_bonuses,
    console_clients,
    console_complaints,
    console_customers,
    console_dead_letters,
    console_desk,
    console_earning_rules,
    console_login,
    console_marketing,
    console_ops,
    console_promotions,
    console_second_factor,
    console_segments,
    console_staff,
    console_stores,
    customers,
    identity_clients,
    identity_members,
    identity_token,
    login,
    members,
    passthrough,
    pos,
    pos_coupons,
    pos_points,
    staff,
    stores,
    surveys,
)
from gateway.api.staff_http import StaffNoStoreMiddleware
from gateway.config import Settings, get_settings
from gateway.consumers import BATCH_HANDLERS, OWN_SKIPPED, handlers
from gateway.domain.throttle import FailureThrottle
from gateway.jobs import refresh_member_revocations, refresh_revocations, scheduled_jobs
from gateway.service_layer.customer360 import Admission
from gateway.service_layer.pos_purchases import accept_purchases
from gateway.service_layer.stores import OpenStores
from shared.body_encoding import http_error_handler
from shared.clock import Clock, utc_now
from shared.errors import ServiceError
from shared.group_commit import GroupCommit
from shared.policy import AccessDenied
from shared.service import ServiceSpec, build_service_app, service_error_handler
from shared.validation_errors import validation_error_handler


def create_app(settings: Settings | None = None, clock: Clock = utc_now) -> FastAPI:
    settings = settings or get_settings()
    # With identity off (another issuer mints tokens) its routes are not there at all.
    # The console logs staff in itself, so it is there only with identity.
    identity = (
        [identity_token.router, identity_clients.router, login.router, staff.router, identity_members.router,
         console_login.router, console_ops.router, console_dead_letters.router,
         console_staff.router, console_second_factor.router, console_customers.router, console_complaints.router,
         console_analytics.router, console_marketing.router, console_segments.router, console_promotions.router, console_earning_rules.router, console_bonuses.router,
         console_desk.router, console_accounts.router, console_clients.router, console_stores.router]
        if settings.identity_enabled else []
    )
    revoked, revoked_members = RevokedTills(), RevokedMembers()

    async def start_identity(app: FastAPI) -> None:
        open_identity(app, revoked, revoked_members)
        if settings.identity_enabled:  # the jobs' first run is an interval away: load them now
            await refresh_revocations(revoked)(app.state.commands, settings, app.state.clock())
            await refresh_member_revocations(revoked_members)(app.state.commands, settings, app.state.clock())

    async def start_pos_writer(app: FastAPI) -> None:
        # Concurrent tills' sales share a transaction and its commit (shared.group_commit).
        app.state.pos_purchases = GroupCommit(app.state.commands, partial(accept_purchases, stores=app.state.open_stores),
                                              name="pos-group-commit")

    app = build_service_app(
        settings,
        ServiceSpec(
            title="CRM gateway",
            description="POS sales, returns and coupons, member registration and look-up, the customer-360 view, "
            "survey links, client credentials of tills and services exchanged for tokens, and staff accounts "
            "with password login, the member app API (/app/v1), and the staff web console (/console).",
            # The pass-through comes last: the explicit routes above take precedence.
            routers=[
                pos.router, pos_points.router, pos_coupons.router, members.router, customers.router, stores.router,
                surveys.router, app_me.router, app_card.router, app_shopping.router, app_feedback.router, *identity,
                passthrough.router,
            ],
            migrations=Path(__file__).parent / "migrations",
            on_startup=[open_clients, start_identity, start_pos_writer],
            handlers=handlers(settings, clock, revoked_members), batch_handlers=BATCH_HANDLERS, own_skipped=OWN_SKIPPED,
            jobs=scheduled_jobs(settings, revoked, revoked_members),
            on_shutdown=[close_clients, console_dead_letters.close_dead_letter_topic],
        ),
        clock=clock,
    )
    app.add_middleware(AppHttpMiddleware)
    app.add_middleware(StaffNoStoreMiddleware)
    app.state.customer360_admission = Admission(settings.customer360_concurrency, settings.customer360_queue_s)
    app.state.open_stores = OpenStores(settings.open_store_ttl_s)
    app.state.till_phone_lookups = FailureThrottle(timedelta(seconds=settings.till_phone_lookup_window_s),
                                                   settings.till_phone_lookups)
    # The console's pages answer refusals, a missing session and a forbidden page with pages.
    app.state.console_successors = Successors()
    app.add_exception_handler(ServiceError, refusal_handler(service_error_handler))
    app.add_exception_handler(AccessDenied, forbidden_handler)
    app.add_exception_handler(RequestValidationError, validation_handler(validation_error_handler))
    app.add_exception_handler(LoginNeeded, login_needed)
    app.add_exception_handler(HTTPException, not_found_handler(http_error_handler))
    return app
