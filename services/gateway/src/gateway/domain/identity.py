"""Client credentials of tills and the platform's own services, and the token each one earns.

A client is a till bound to one store or a service of the platform named by its service name. Its
secret is 256 random bits, shown once and kept only as a SHA-256 digest: a slow password hash
(argon2) protects guessable human passwords from an offline attack on a stolen table, but nobody
can guess 2^256 possibilities however fast the hash, so a fast one costs nothing in safety and keeps
the exchange cheap for tills that come back every few minutes.
"""

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared.auth import Principal, Role
from shared.errors import Invalid, ServiceError

SECRET_BYTES = 32  # 256 bits
# The services behind the gateway: what `/api/<service>/` forwards to, and what a service client may
# be. A token for a name no service has ("bogus") would be a machine token for nobody the platform
# knows, and the gateway mints its own (`gateway`) and enrols nowhere.
DOWNSTREAM_SERVICES = ("members", "points", "feedback", "campaigns")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change an audit trail records: the subject and role of the admin's token (or
    `crm run` itself)."""

    name: str
    role: str

    @classmethod
    def of(cls, principal: Principal) -> "Actor":
        return cls(principal.subject, principal.role.value)


class ClientKind(StrEnum):
    TILL = "till"
    SERVICE = "service"


class AuditAction(StrEnum):
    CREATED = "created"
    ROTATED = "rotated"
    REVOKED = "revoked"


class OAuthError(ServiceError):
    """A refusal of the token endpoint in RFC 6749 §5.2's shape: `error` names the case for OAuth
    clients, `detail` says it for people, as every other refusal of the platform does."""

    status_code = 400
    error = "invalid_request"

    def extra(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": str(self)}


class InvalidClient(OAuthError):
    """Unknown client, wrong secret, rotated-away secret, revoked client: one answer for all, so a
    caller learns nothing about which client ids exist or were ever valid."""

    status_code = 401
    error = "invalid_client"

    def __init__(self) -> None:
        super().__init__("client authentication failed")

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Basic realm="crm-identity"'}


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class StoreClosed(OAuthError):
    """A till that proved its secret, of a store closed for business: no token while it is closed
    (its sales would be refused anyway), and tokens again once the store reopens. Said only to a
    client that authenticated, so it tells a stranger nothing."""

    error = "unauthorized_client"

    def __init__(self, store_id: str | None) -> None:
        super().__init__(f"store_id: store {store_id} is closed; its tills get tokens again once it reopens")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, digest: str) -> bool:
    # Constant time: how long the comparison takes says nothing about how much of it matched.
    return hmac.compare_digest(hash_secret(secret), digest)


@dataclass(frozen=True, slots=True)
class Binding:
    """What a client is bound to: a till's store or a service's name; exactly one of the two."""

    kind: ClientKind
    store_id: str | None = None
    service: str | None = None


def binding(kind: ClientKind, store_id: str | None, service: str | None) -> Binding:
    """The client's binding, or Invalid naming the field a kind needs or must not have."""
    if kind is ClientKind.TILL:
        if not store_id:
            raise Invalid("store_id", "a till is bound to one store: store_id is required")
        if service:
            raise Invalid("service", "a till does not name a service")
        return Binding(kind, store_id=store_id)
    if not service:
        raise Invalid("service", "a service client names its service: service is required")
    if service not in DOWNSTREAM_SERVICES:
        raise Invalid("service", f"a service client is one of the platform's services: {', '.join(DOWNSTREAM_SERVICES)}")
    if store_id:
        raise Invalid("store_id", "a service client is not bound to a store")
    return Binding(kind, service=service)


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """Whom the token speaks for: a till as a `pos` token of its store, a service as itself."""

    subject: str
    role: Role
    store_id: str | None


def grant_for(client_id: str, kind: ClientKind, store_id: str | None, service: str | None) -> TokenGrant:
    if kind is ClientKind.TILL:
        return TokenGrant(subject=client_id, role=Role.POS, store_id=store_id)
    # Services are named by their service name: that is who the receiving service sees calling.
    assert service is not None
    return TokenGrant(subject=service, role=Role.SERVICE, store_id=None)


class NoSigningKey(OAuthError):
    """The gateway has no signing key (development without `crm run`'s key): nothing to issue with."""

    status_code = 503
    error = "temporarily_unavailable"

    def __init__(self) -> None:
        super().__init__("the gateway has no token signing key (CRM_JWT_PRIVATE_KEY)")
