"""The gateway's token issuer: the signing key loaded at start-up, and the throttles of the token
exchange and of staff logins."""

import logging
from datetime import timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import FastAPI

from gateway.adapters.member_revocations import RevokedMembers
from gateway.adapters.revocations import RevocationAwareVerifier, RevokedTills
from gateway.config import Settings
from gateway.domain.throttle import ExchangeGuard, FailureThrottle, SignInGuard
from shared.auth import TokenIssuer

log = logging.getLogger(__name__)


class SigningKeyMismatch(RuntimeError):
    """The private key does not belong to the public key the services verify with."""


def issuer_from(settings: Settings) -> TokenIssuer | None:
    """The issuer, or None when no key is configured (refused at start-up in production)."""
    private_pem = settings.resolved_private_key()
    if private_pem is None:
        return None
    private = serialization.load_pem_private_key(private_pem.encode(), password=None)
    public = serialization.load_pem_public_key(settings.resolved_public_key().encode())
    if not isinstance(private, Ed25519PrivateKey) or not isinstance(public, Ed25519PublicKey):
        raise SigningKeyMismatch("CRM_JWT_PRIVATE_KEY and CRM_JWT_PUBLIC_KEY must be Ed25519 keys")
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    # Tokens signed with a key the services do not know would all be refused: say so at start-up
    # rather than with every till's first sale.
    if private.public_key().public_bytes(*raw) != public.public_bytes(*raw):
        raise SigningKeyMismatch("CRM_JWT_PRIVATE_KEY is not the private half of CRM_JWT_PUBLIC_KEY")
    return TokenIssuer(private_pem, issuer=settings.jwt_issuer, audience=settings.jwt_audience)


def open_identity(app: FastAPI, revoked: RevokedTills, members: RevokedMembers | None = None) -> None:
    """The issuer, the exchange's and members' sign-in throttles, and the verifier that also
    refuses tokens of revoked tills and erased members (the identity-revocations and
    member-revocations jobs keep `revoked` and `members` current)."""
    settings: Settings = app.state.settings
    app.state.token_issuer = issuer_from(settings) if settings.identity_enabled else None
    if settings.identity_enabled and app.state.token_issuer is None:
        log.warning("no token signing key (CRM_JWT_PRIVATE_KEY): POST /identity/v1/token answers 503")
    app.state.exchange_guard = FailureThrottle(
        timedelta(seconds=settings.identity_failure_window_s), settings.identity_max_failures_per_address,
    )
    # Staff logins count failures the same way, per login name instead of per client id.
    app.state.login_guard = ExchangeGuard(
        timedelta(seconds=settings.staff_login_failure_window_s),
        settings.staff_max_failures_per_login, settings.staff_max_failures_per_address,
    )
    app.state.sign_in_guard = SignInGuard(
        timedelta(seconds=settings.member_sign_in_window_s), codes_per_phone=settings.member_codes_per_phone,
        codes_per_address=settings.member_codes_per_address,
        wrong_codes_per_address=settings.member_wrong_codes_per_address,
    )
    if settings.identity_enabled:
        app.state.revoked_tills = revoked
        app.state.revoked_members = members = members or RevokedMembers()
        app.state.verifier = RevocationAwareVerifier(app.state.verifier, revoked, members)
