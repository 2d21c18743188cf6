"""The customer a till names (`domain.sales.TillCustomer`: a card, or a phone), as the services
behind the gateway are to find them (`service_layer.pos_customers.member_reference`): one home for
the points preview and the coupon calls, with the till's one budget of phone look-ups."""

from datetime import datetime

from fastapi import Request

from gateway.adapters.member_accounts import MemberAccounts
from gateway.api.routes.identity_members import SERVICE_TOKEN_TTL
from gateway.domain.identity import NoSigningKey
from gateway.domain.sales import TillCustomer
from gateway.service_layer.pos_customers import member_reference
from shared.auth import Role
from shared.policy import Grant


async def services_customer(customer: TillCustomer, grant: Grant, request: Request, now: datetime, *,
                            timeout: float) -> dict[str, str]:
    """`card_no` or `member_id` for the service's body, or nothing (`member_reference`); members is
    asked within `timeout`, the calling route's own budget (a customer waits at the checkout)."""
    return await member_reference(customer, _member_accounts(request, timeout), till=grant.principal.subject,
                                  lookups=request.app.state.till_phone_lookups, now=now)


def _member_accounts(request: Request, timeout: float) -> MemberAccounts:
    """Members asked as the gateway itself, as the app's sign-in asks it: a till's token may not
    ask whose phone a number is (`members.member.identify`), and the till hears only what the
    service answers."""
    state = request.app.state

    def token() -> str:  # minted only when a phone is asked about: a card needs no signing key
        if state.token_issuer is None:
            raise NoSigningKey()
        return state.token_issuer.mint("gateway", Role.SERVICE, ttl=SERVICE_TOKEN_TTL)

    return MemberAccounts(state.downstream.members, None, token, timeout_s=timeout)
