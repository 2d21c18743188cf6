"""Client credentials: enrolling, rotating and revoking them (each change audited), and exchanging
one for a token (OAuth2 client credentials, RFC 6749 §4.4)."""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select

from gateway.adapters.revocations import RevokedTills
from gateway.adapters.tables import IdentityAuditRow, IdentityClientRow, StoreRow
from gateway.domain import audit_details as details
from gateway.domain.identity import (
    SECRET_BYTES,
    Actor,
    AuditAction,
    ClientKind,
    InvalidClient,
    StoreClosed,
    binding,
    grant_for,
    hash_secret,
    secret_matches,
)
from gateway.domain.throttle import FailureThrottle
from gateway.service_layer.stores import is_open
from shared.auth import TokenIssuer
from shared.errors import Conflict, Invalid, NotFound, TooManyRequests
from shared.unit_of_work import UnitOfWork

# What a client id can look like; anything else is refused before it reaches the database (a NUL
# byte would be an error on PostgreSQL, and the answer must stay the one for an unknown client).
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MAX_SECRET_CHARS = 200
# Compared against when the client is unknown, so that case costs the same hash as a wrong secret.
_NO_DIGEST = "0" * 64


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int


async def enroll(
    uow: UnitOfWork, actor: Actor, kind: ClientKind, *, store_id: str | None = None, service: str | None = None,
    label: str = "",
) -> tuple[IdentityClientRow, str]:
    """A new client and its secret: the only time the secret is ever seen."""
    bound = binding(kind, store_id, service)
    if bound.store_id is not None:
        store = await uow.session.get(StoreRow, bound.store_id)
        if store is None:
            raise Invalid("store_id", f"no store {bound.store_id}; add it with PUT /api/v1/stores/{bound.store_id} first")
        if not store.active:
            raise Invalid("store_id", f"store {bound.store_id} is not active")
    secret = _new_secret()
    prefix = "till" if kind is ClientKind.TILL else "svc"
    row = IdentityClientRow(
        client_id=f"{prefix}_{secrets.token_hex(8)}", kind=kind.value, store_id=bound.store_id, service=bound.service,
        label=label, secret_hash=hash_secret(secret), created_at=uow.now(),
    )
    uow.session.add(row)
    _audit(uow, actor, AuditAction.CREATED, row.client_id, details.client(kind.value, bound.store_id or bound.service or ""))
    await uow.session.flush()
    return row, secret


async def rotate(uow: UnitOfWork, actor: Actor, client_id: str) -> tuple[IdentityClientRow, str]:
    """A new secret; the old one stops working at once (a till is re-keyed while closed)."""
    row = await get(uow, client_id)
    if row.revoked_at is not None:
        raise Conflict(f"client {client_id} is revoked; enroll a new one")
    secret = _new_secret()
    row.secret_hash, row.rotated_at = hash_secret(secret), uow.now()
    uow.session.add(row)
    _audit(uow, actor, AuditAction.ROTATED, client_id)
    await uow.session.flush()
    return row, secret


async def revoke(uow: UnitOfWork, actor: Actor, client_id: str, refused_here: RevokedTills) -> IdentityClientRow:
    """No more tokens for this client, for good. Revoking a revoked client changes nothing.

    A till's tokens already issued are refused by this replica at once (`refused_here`, the app's
    `revoked_tills`) and by the others within CRM_IDENTITY_REVOCATION_REFRESH_S, when their
    identity-revocations job reads the database; a till must not go on selling with points in the
    meantime. A service's token lives out its few minutes. Every way of revoking (the API, the
    console) comes here, so none can leave this replica accepting a revoked till's token."""
    row = await get(uow, client_id)
    if row.revoked_at is None:
        row.revoked_at = uow.now()
        uow.session.add(row)
        _audit(uow, actor, AuditAction.REVOKED, client_id)
        await uow.session.flush()
    if row.kind == ClientKind.TILL.value:
        refused_here.add(client_id, row.revoked_at)
    return row


async def get(uow: UnitOfWork, client_id: str) -> IdentityClientRow:
    row = await uow.session.get(IdentityClientRow, client_id) if CLIENT_ID.match(client_id) else None
    if row is None:
        raise NotFound(f"no client {client_id}")
    return row


async def listing(
    uow: UnitOfWork, *, kind: ClientKind | None = None, store_id: str | None = None, include_revoked: bool = False,
) -> list[IdentityClientRow]:
    query = select(IdentityClientRow).order_by(col(IdentityClientRow.created_at), col(IdentityClientRow.client_id))
    if kind is not None:
        query = query.where(IdentityClientRow.kind == kind.value)
    if store_id is not None:
        query = query.where(IdentityClientRow.store_id == store_id)
    if not include_revoked:
        query = query.where(col(IdentityClientRow.revoked_at).is_(None))
    return list((await uow.session.exec(query)).all())


async def revoked_tills_since(uow: UnitOfWork, since: datetime) -> set[str]:
    """Tills revoked after `since`: those that may still hold a token issued before the revocation."""
    query = select(IdentityClientRow.client_id).where(
        IdentityClientRow.kind == ClientKind.TILL.value, col(IdentityClientRow.revoked_at) > since,
    )
    return set((await uow.session.exec(query)).all())


async def audit_trail(uow: UnitOfWork, client_id: str) -> list[IdentityAuditRow]:
    await get(uow, client_id)
    query = (
        select(IdentityAuditRow).where(IdentityAuditRow.client_id == client_id)
        .order_by(col(IdentityAuditRow.at), col(IdentityAuditRow.id))
    )
    return list((await uow.session.exec(query)).all())


async def exchange(
    uow: UnitOfWork, issuer: TokenIssuer, addresses: FailureThrottle, ttl: timedelta, *, client_id: str, secret: str,
    address: str,
) -> IssuedToken:
    """A token for a client that proves its secret. Every way of failing is the same InvalidClient;
    an address with too many recent failures is TooManyRequests, even with the right secret, so
    one caller cannot go on hammering the exchange by mixing in a known credential.

    Failures are counted per address only, never per client: a till's client id is no secret (it
    is the subject of every token the till holds, and travels with its sales), and a lock per id
    would let anyone stop a till's sales with a few wrong secrets, while the secret's 256 bits are
    no easier to guess without one. An attempt counts before the look-up is awaited and is taken
    back when it succeeds, so a burst sent at once gets no more judged than the limit."""
    now = uow.now()
    if wait := addresses.retry_after(address, now):
        raise TooManyRequests("too many failed attempts; retry later", retry_after_s=wait)
    addresses.fail(address, now)
    row = await authenticated(uow, client_id, secret)
    if row is None:
        raise InvalidClient()
    addresses.withdraw(address, now)
    if row.kind == ClientKind.TILL.value and not (row.store_id and await is_open(uow.session, row.store_id)):
        # Closing a store is reversible: its tills keep their credentials and get tokens again
        # once it reopens (revoking is what ends a till for good).
        raise StoreClosed(row.store_id)
    grant = grant_for(row.client_id, ClientKind(row.kind), row.store_id, row.service)
    token = issuer.mint(grant.subject, grant.role, store_id=grant.store_id, ttl=ttl, now=now)
    return IssuedToken(access_token=token, expires_in=int(ttl.total_seconds()))


async def authenticated(uow: UnitOfWork, client_id: str, secret: str) -> IdentityClientRow | None:
    """The client, if it exists, is not revoked and this is its current secret; else None, with
    the same work done whichever of those failed."""
    row = None
    if CLIENT_ID.match(client_id) and len(secret) <= MAX_SECRET_CHARS:
        row = await uow.session.get(IdentityClientRow, client_id)
    matches = secret_matches(secret[:MAX_SECRET_CHARS], row.secret_hash if row is not None else _NO_DIGEST)
    return row if row is not None and row.revoked_at is None and matches else None


def _new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def _audit(uow: UnitOfWork, actor: Actor, action: AuditAction, client_id: str, detail: str = "") -> None:
    uow.session.add(IdentityAuditRow(
        at=uow.now(), actor=actor.name[:200], actor_role=actor.role[:32], action=action.value, client_id=client_id,
        detail=detail[:200],
    ))
