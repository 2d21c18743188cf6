"""A person's own second factor on the console (admins and store managers): set up from their
password page with their password, the seed shown once as a QR code and as text in the answer to
that form (never at an address), turned on by a code from the app (`service_layer.second_factor`)."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.api.console.render import gettext_of, go, shown_once
from gateway.api.console.session import PATH, Console, ConsoleUser, Form, one
from gateway.domain.second_factor import qr_code_svg, seed_for_typing
from gateway.service_layer import console_people, second_factor
from shared.deps import UowDep
from shared.errors import NotFound
from shared.query_params import QUERY_CHECKED_ELSEWHERE

router = APIRouter(prefix="/console/second-factor", tags=["console"], include_in_schema=False, dependencies=[QUERY_CHECKED_ELSEWHERE])
User = Annotated[ConsoleUser, Console("gateway.console.use")]


async def _own(uow: UowDep, user: ConsoleUser) -> str:
    account = await console_people.own_account(uow, user.principal.subject)
    if account is None:
        raise NotFound("this session is not a staff account's: there is no second factor to set up")
    return account.staff_id


@router.post("")
async def start(request: Request, form: Form, user: User, uow: UowDep) -> HTMLResponse:
    uri = await second_factor.start_own(uow, request.app.state.login_guard, await _own(uow, user), password=one(form, "password"),
                                        address=request.client.host if request.client else "unknown")
    _ = gettext_of(request)
    return shown_once(request, user, "own/_second_factor.html", "own/second_factor.html", replaces_page=True,
                      qr_code=qr_code_svg(uri, _("QR code for the authenticator app")), seed=seed_for_typing(uri))


@router.post("/confirm")
async def confirm(request: Request, form: Form, user: User, uow: UowDep) -> Response:
    await second_factor.confirm_own(uow, await _own(uow, user), one(form, "totp_code"))
    return go(request, f"{PATH}/password?second_factor=on")
