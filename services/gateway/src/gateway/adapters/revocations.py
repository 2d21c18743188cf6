"""Refusing, at the gateway, the tokens of tills revoked since those tokens were issued.

Every service verifies tokens itself and cannot know about a revocation; the gateway can, and it is
where tills send everything they do (sales, returns, coupons, previews). So each gateway replica
keeps the client ids of the tills revoked within the longest lifetime it issues, reloads them every
`CRM_IDENTITY_REVOCATION_REFRESH_S` (the `identity-revocations` job), adds a revocation made
through itself at once, and refuses a `pos` token whose subject is one of them.

Service tokens are not covered: their subject is the service's name, shared by an old and a new
client of that service, and they are sent from service to service, not through the gateway."""

from datetime import datetime

from shared.auth import Principal, TokenRefused, TokenVerifier


class RevokedIds:
    """Ids whose tokens this replica refuses: those a reload read from the database, and those
    revoked through this replica since (`add`), at once.

    An id added here is kept until a reload reads it back, or until it is older than the reload's
    window. A reload whose read began before the revocation committed (the revocation is added
    before its transaction commits, and a reload may read meanwhile) does not see it; replacing
    the set with what it read would let the revoked tokens through again until the next reload."""

    def __init__(self) -> None:
        self.ids: frozenset[str] = frozenset()
        self._added: dict[str, datetime] = {}  # added here and not read back by a reload yet

    def add(self, id_: str, at: datetime) -> None:
        self._added[id_] = at
        self.ids = self.ids | {id_}

    def replace(self, loaded: set[str], since: datetime) -> None:
        """The ids a reload read (those revoked after `since`), and those added here after `since`
        that it did not read."""
        self._added = {id_: at for id_, at in self._added.items() if id_ not in loaded and at > since}
        self.ids = frozenset(loaded) | self._added.keys()

    def __contains__(self, id_: object) -> bool:
        return id_ in self.ids


class RevokedTills(RevokedIds):
    """Client ids of revoked tills whose last tokens may still be within their lifetime."""


class RevocationAwareVerifier(TokenVerifier):
    """The shared verifier, plus the gateway's lists of revoked tills and erased members."""

    def __init__(self, inner: TokenVerifier, revoked: RevokedTills, members: RevokedIds | None = None) -> None:
        self.__dict__.update(inner.__dict__)  # the same key, issuer and audience
        self.revoked = revoked
        self.members = members or RevokedIds()

    def verify(self, token: str) -> Principal:
        # By the token's subject and member claim alone: a client id is a random id no other
        # token's subject shares, and only member tokens carry a member id.
        principal = super().verify(token)
        if principal.subject in self.revoked:
            raise TokenRefused("the till this token was issued to has been revoked")
        if principal.member_id is not None and principal.member_id in self.members:
            raise TokenRefused("the member this token was issued to has been erased")
        return principal
