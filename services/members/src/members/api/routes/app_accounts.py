"""Routes for the gateway's member sign-in (service token): whose phone a proved number is, and
registering a customer who signs up in the app."""

from typing import Annotated

from fastapi import APIRouter, Response, status

from members.api.app_account_schemas import AppAccount, AppSignUp, PhoneIn
from members.api.deps import MembersSettingsDep
from members.domain.profile import birthday_problem
from members.service_layer import app_accounts
from shared.authorize import Allowed
from shared.deps import UowDep
from shared.errors import Invalid, NotFound
from shared.policy import Grant

router = APIRouter(prefix="/v1/app-accounts", tags=["app sign-in"])


@router.post("/identify", summary="The member a phone number belongs to (the gateway, after an SMS code proved it)",
             responses={404: {"description": "The number is no member's"}})
async def identify(
    body: PhoneIn, uow: UowDep, settings: MembersSettingsDep, _: Annotated[Grant, Allowed("members.member.identify")],
) -> AppAccount:
    member_id = await app_accounts.member_with_phone(uow, body.phone, settings.resolved_pepper())
    if member_id is None:
        raise NotFound("no member has this phone")
    return AppAccount(member_id=member_id, created=False)


@router.post("", status_code=status.HTTP_201_CREATED,
             summary="Register a customer who signed up in the app (consents with channel app)",
             responses={200: {"description": "The phone is a member's already: that member, unchanged"}})
async def sign_up(
    body: AppSignUp, uow: UowDep, settings: MembersSettingsDep, response: Response,
    grant: Annotated[Grant, Allowed("members.member.self_register")],
) -> AppAccount:
    if problem := birthday_problem(body.birthday, uow.now().astimezone(settings.zone).date()):
        raise Invalid("birthday", problem)
    member_id, created = await app_accounts.sign_up(uow, body.registration(), settings.resolved_pepper(), grant.principal)
    if not created:
        response.status_code = status.HTTP_200_OK
    return AppAccount(member_id=member_id, created=created)
