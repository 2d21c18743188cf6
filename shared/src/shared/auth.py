"""Identity: Ed25519-signed JWT bearer tokens carrying a role and, where it applies, a store or member.

Only the token issuer holds the private key; every service verifies tokens itself with the public
key, so a compromised service cannot mint tokens for the others.
"""

import logging
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt.algorithms import AllowedPrivateKeys, AllowedPublicKeys
from pydantic import BaseModel, ConfigDict

ALGORITHM = "EdDSA"

log = logging.getLogger(__name__)


class Role(StrEnum):
    POS = "pos"
    MEMBER = "member"
    SERVICE_DESK = "service_desk"
    ACCOUNT_MANAGER = "account_manager"
    STORE_MANAGER = "store_manager"
    MARKETING = "marketing"
    ADMIN = "admin"
    OPERATOR = "operator"
    # Another service of the platform acting for itself (the message sender reading a contact),
    # holding a token the identity service issued for its client credential.
    SERVICE = "service"


# Staff whose reach is one store's customers: their token names the store (the policy's STORE
# scope refuses one that does not), and so does their account.
STORE_BOUND = frozenset({Role.SERVICE_DESK, Role.STORE_MANAGER})



# Longest token accepted, checked before any decoding: ours are a few hundred bytes, and a
# megabyte-sized one would otherwise be base64-decoded and parsed on every request.
MAX_TOKEN_CHARS = 4096

# Longest lifetime (exp - iat) a token of each role may have. A stolen token is worth its
# remaining life: staff and back-office tokens last a shift, a till's a day (it re-authenticates
# each morning), a member's app session a month.
MAX_TOKEN_LIFETIME: dict[Role, timedelta] = {
    Role.POS: timedelta(hours=24),
    Role.MEMBER: timedelta(days=30),
    Role.SERVICE_DESK: timedelta(hours=12),
    Role.ACCOUNT_MANAGER: timedelta(hours=12),
    Role.STORE_MANAGER: timedelta(hours=12),
    Role.MARKETING: timedelta(hours=12),
    Role.ADMIN: timedelta(hours=12),
    Role.OPERATOR: timedelta(hours=12),
    # A service fetches a fresh one whenever it runs out: nothing is gained by a long life.
    Role.SERVICE: timedelta(hours=1),
}

# The claim a role cannot work without: routes scope a till to its store and a member to their
# own records by these, so a token lacking one must not get as far as a route.
REQUIRED_CLAIM: dict[Role, str] = {Role.POS: "store_id", Role.MEMBER: "member_id"}


class Principal(BaseModel):
    # Frozen: the verifier hands the same instance to every request made with one token.
    model_config = ConfigDict(frozen=True)

    subject: str
    role: Role
    store_id: str | None = None
    member_id: str | None = None
    token: str = ""

    @property
    def is_customer(self) -> bool:
        """A member acting for themself (in the app or on the web), not staff acting for them."""
        return self.role == Role.MEMBER


class TokenRefused(jwt.InvalidTokenError):
    """A token refused by a check of the platform's own (its length, lifetime, required claims and
    validity window here; a revoked till or an erased member at the gateway), with a reason written
    for the caller, who is told it. What else verification raises (PyJWT decoding the token, the
    claims' types) describes the decoder's internals ("Invalid header string: 'utf-8' codec can't
    decode byte 0xb7") and is answered as a plain "invalid token" (`refusal_reason`)."""


class TokenExpired(TokenRefused, jwt.ExpiredSignatureError):
    pass


class TokenNotYetValid(TokenRefused, jwt.ImmatureSignatureError):
    pass


def refusal_reason(exc: Exception) -> str:
    """What the 401 says about a token that failed verification: our own checks' reasons, and the
    claim the token lacks (PyJWT checks the required claims for us, and names the one missing);
    for anything else, only that the token is not a valid one of the platform."""
    if isinstance(exc, TokenRefused):
        return f"invalid token: {exc}"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"invalid token: token must carry claim {exc.claim}"
    return "invalid token"


# Tokens whose checked signature a verifier remembers (the most recently used): more than the tills
# and staff screens of a large chain use within a token's lifetime.
SIGNED_TOKENS_KEPT = 8192


class TokenVerifier:
    def __init__(self, public_key_pem: str, issuer: str, audience: str) -> None:
        # An Ed25519 key (EdDSA); jwt.decode rejects a key of a kind it cannot verify with.
        self._key = cast(AllowedPublicKeys, serialization.load_pem_public_key(public_key_pem.encode()))
        self.issuer, self.audience = issuer, audience
        # token -> its claims and principal, once its signature, issuer and audience were checked:
        # a till sends hundreds of sales with one token, and the check (~140 µs) cost more than
        # the rest of a small request or of consuming a sale. Only what depends on the token alone
        # is kept (keyed by the whole token); its time window is judged at every call.
        self._signed: OrderedDict[str, tuple[dict[str, Any], Principal]] = OrderedDict()

    def _checked(self, token: str) -> tuple[dict[str, Any], Principal]:
        known = self._signed.get(token)
        if known is not None:
            self._signed.move_to_end(token)
            return known
        if len(token) > MAX_TOKEN_CHARS:
            raise TokenRefused(f"token is longer than {MAX_TOKEN_CHARS} characters")
        claims = jwt.decode(
            token, self._key, algorithms=[ALGORITHM], issuer=self.issuer, audience=self.audience,
            options={"require": ["exp", "iat", "sub", "role"], "verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
        principal = Principal(
            subject=claims["sub"], role=Role(claims["role"]), store_id=claims.get("store_id"),
            member_id=claims.get("member_id"), token=token,
        )
        self._signed[token] = (claims, principal)
        if len(self._signed) > SIGNED_TOKENS_KEPT:
            self._signed.popitem(last=False)
        return claims, principal

    def verify(self, token: str) -> Principal:
        """The principal of a token valid now, within its role's lifetime and with its role's claims."""
        claims, principal = self._window(token, datetime.now(UTC))
        lifetime = timedelta(seconds=claims["exp"] - claims["iat"])
        if lifetime > MAX_TOKEN_LIFETIME[principal.role]:
            raise TokenRefused(
                f"token lifetime {lifetime} exceeds the {MAX_TOKEN_LIFETIME[principal.role]} allowed for role {principal.role}"
            )
        if (claim := REQUIRED_CLAIM.get(principal.role)) and not claims.get(claim):
            raise TokenRefused(f"token for role {principal.role} must carry claim {claim}")
        return principal

    def verify_at(self, token: str, when: datetime, leeway: timedelta = timedelta(0)) -> Principal:
        """Like `verify`, but judges the validity window at `when` rather than now: an event
        carries the token it was published with, and a backlog read hours later must still pass."""
        return self._window(token, when, leeway)[1]

    def _window(self, token: str, when: datetime, leeway: timedelta = timedelta(0)) -> tuple[dict[str, Any], Principal]:
        claims, principal = self._checked(token)
        at, slack = when.timestamp(), leeway.total_seconds()
        if claims["exp"] <= at - slack:
            raise TokenExpired("token had expired at that time")
        if claims.get("nbf", claims["iat"]) > at + slack:
            raise TokenNotYetValid("token was not yet valid at that time")
        return claims, principal


class TokenIssuer:
    def __init__(self, private_key_pem: str, issuer: str = "crm-identity", audience: str = "crm") -> None:
        self._key = cast(AllowedPrivateKeys, serialization.load_pem_private_key(private_key_pem.encode(), password=None))
        self.issuer, self.audience = issuer, audience

    def mint(
        self, subject: str, role: Role, *, store_id: str | None = None, member_id: str | None = None,
        ttl: timedelta | None = None, now: datetime | None = None,
    ) -> str:
        """A token for `role`, living `ttl`: by default a shift (12 hours), or the role's whole
        lifetime where that is shorter, so a default token is never one the services refuse.
        `now`: the issuing service's clock, so its tests judge lifetimes by their own time."""
        ttl = ttl or min(timedelta(hours=12), MAX_TOKEN_LIFETIME[role])
        now = now or datetime.now(UTC)
        claims: dict[str, Any] = {
            "sub": subject, "role": role.value, "iss": self.issuer, "aud": self.audience,
            "iat": now, "exp": now + ttl,
        }
        if store_id:
            claims["store_id"] = store_id
        if member_id:
            claims["member_id"] = member_id
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)


def generate_keypair() -> tuple[str, str]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public


def ensure_dev_keypair(keys_dir: Path) -> tuple[str, str]:
    """The development signing key lives in the data directory, readable by its owner only."""
    private_path, public_path = keys_dir / "jwt-private.pem", keys_dir / "jwt-public.pem"
    if not private_path.exists():
        keys_dir.mkdir(parents=True, exist_ok=True)
        private, public = generate_keypair()
        private_path.touch(mode=0o600)
        private_path.write_text(private)
        public_path.write_text(public)
    return private_path.read_text(), public_path.read_text()


class BearerPrincipal(HTTPBearer):
    """The caller's principal, from its bearer token, as one dependency. An `HTTPBearer`, so the
    API documentation shows the scheme on every route that asks for it; one dependency rather than
    a chain (scheme, then principal, then grant), because FastAPI's resolution of each link costs
    more than what the link does, on every request of every service (17-20 µs for the two, bench/README.md)."""

    def __init__(self) -> None:
        super().__init__(auto_error=False, scheme_name="HTTPBearer")

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        return principal_of(request, await super().__call__(request))


def principal_of(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    if credentials is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token", {"WWW-Authenticate": "Bearer"})
    verifier: TokenVerifier = request.app.state.verifier
    try:
        return verifier.verify(credentials.credentials)
    except (jwt.PyJWTError, ValueError) as exc:
        # The decoder's own words stay in the log, for whoever looks into a refused caller; PyJWT's
        # and pydantic's messages never contain the token itself.
        log.info("token refused on %s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, refusal_reason(exc), {"WWW-Authenticate": "Bearer"}
        ) from exc


current_principal = BearerPrincipal()
