"""What every `/app/v1` route shares: the member's grant, their calls to the services with their
own token, and the paging parameters (the same `limit` and `cursor` on every list)."""

from typing import Annotated

from fastapi import Depends, Query, Request

from gateway.domain.app_cursors import MAX_CURSOR_CHARS
from gateway.service_layer.app_calls import MemberCalls
from shared.authorize import Allowed
from shared.errors import Forbidden
from shared.policy import Grant

AppGrant = Annotated[Grant, Allowed("gateway.app.use")]

Limit = Annotated[int, Query(ge=1, le=100, description="Items per page")]

_CURSOR = "`next_cursor` of the previous page; absent for the first page"
# A cursor names the last item of the previous page (`domain.app_cursors`). One the gateway never
# handed out (a client bug: a cursor kept from another list, mangled or made up) is a 422 naming
# `cursor`, which tells the app's developer what is wrong, rather than an empty page, which would
# look like the end of the list.
Cursor = Annotated[str | None, Query(min_length=1, max_length=MAX_CURSOR_CHARS, description=_CURSOR)]


def mine(grant: Grant) -> str:
    """The member the token was issued to: the only member an app route ever acts for."""
    if grant.principal.member_id is None:  # verification refuses such a member token already
        raise Forbidden("this token names no member")
    return grant.principal.member_id


async def member_calls(request: Request) -> MemberCalls:
    """The route's grant has already checked the token; the same token goes to the services."""
    return MemberCalls(
        request.app.state.downstream, request.headers.get("authorization", ""), request.app.state.settings.forward_timeout_s,
        request.headers.get("accept-language"),
    )


Calls = Annotated[MemberCalls, Depends(member_calls)]
