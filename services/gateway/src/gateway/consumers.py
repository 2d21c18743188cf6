"""Event type -> handler map of the gateway: members' erasures, whose tokens it refuses from then on."""

from typing import cast

from gateway.adapters.member_revocations import RevokedMembers
from gateway.config import Settings
from gateway.service_layer import member_sign_in
from shared.clock import Clock
from shared.consumer import Delivery, Handler
from shared.events import contracts as c
from shared.events.registry import MEMBER_ERASED
from shared.unit_of_work import UnitOfWork


def handlers(settings: Settings, clock: Clock, revoked: RevokedMembers | None = None) -> dict[str, Handler]:
    """`revoked`: the app's in-memory list the verifier consults (without it, only the table)."""
    if not settings.identity_enabled:  # another issuer mints the tokens, and refuses them
        return {}
    members = revoked if revoked is not None else RevokedMembers()

    async def on_member_erased(uow: UnitOfWork, delivery: Delivery) -> None:
        erased = cast(c.MemberErasedV1, delivery.payload)
        await member_sign_in.on_member_erased(uow, erased.member_id, erased.erased_at, members)

    return {MEMBER_ERASED: on_member_erased}
