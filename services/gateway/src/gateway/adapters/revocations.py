"""Refusing, at the gateway, the tokens of tills revoked since those tokens were issued.

Every service verifies tokens itself and cannot know about a revocation; the gateway can, and it is
where tills send everything they do (sales, returns, coupons, previews). So each gateway replica
keeps the client ids of the tills revoked within the longest lifetime it issues, reloads them every
`CRM_IDENTITY_REVOCATION_REFRESH_S` (the `identity-revocations` job), adds a revocation made
through itself at once, and refuses a `pos` token whose subject is one of them.

Service tokens are not covered: their subject is the service's name, shared by an old and a new
client of that service, and they are sent from service to service, not through the gateway."""

from gateway.adapters.member_revocations import RevokedMembers
from shared.auth import Principal, TokenRefused, TokenVerifier


class RevokedTills:
    """Client ids of revoked tills whose last tokens may still be within their lifetime."""

    def __init__(self) -> None:
        self.client_ids: frozenset[str] = frozenset()

    def replace(self, client_ids: set[str]) -> None:
        self.client_ids = frozenset(client_ids)

    def add(self, client_id: str) -> None:
        self.client_ids = self.client_ids | {client_id}


class RevocationAwareVerifier(TokenVerifier):
    """The shared verifier, plus the gateway's lists of revoked tills and erased members."""

    def __init__(self, inner: TokenVerifier, revoked: RevokedTills, members: RevokedMembers | None = None) -> None:
        self.__dict__.update(inner.__dict__)  # the same key, issuer and audience
        self.revoked = revoked
        self.members = members or RevokedMembers()

    def verify(self, token: str) -> Principal:
        # By the token's subject and member claim alone: a client id is a random id no other
        # token's subject shares, and only member tokens carry a member id.
        principal = super().verify(token)
        if principal.subject in self.revoked.client_ids:
            raise TokenRefused("the till this token was issued to has been revoked")
        if principal.member_id is not None and principal.member_id in self.members:
            raise TokenRefused("the member this token was issued to has been erased")
        return principal
