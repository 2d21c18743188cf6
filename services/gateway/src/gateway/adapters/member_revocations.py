"""The members whose tokens the gateway refuses: those erased (members' `member_erased`).

Each replica keeps the ids of members erased within the longest lifetime a member token may have
(`shared.auth.MAX_TOKEN_LIFETIME`, 30 days: `crm token` mints such tokens), reloads them with the
`member-revocations` job, and adds an erasure its own consumer applies at once. Only requests
through the gateway are covered: a member token sent to a service directly is judged there by the
public key alone, and the services refuse an erased member's data by their own erasure instead
(see the gateway README, "Members' sign-in")."""

from gateway.adapters.revocations import RevokedIds


class RevokedMembers(RevokedIds):
    """Ids of erased members whose tokens may still be within their lifetime."""
