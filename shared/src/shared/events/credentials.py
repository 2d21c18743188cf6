"""Who may publish an event: the credential checks the registry attaches to event types.

A sale or a return is only as trustworthy as the till that made it. Through the HTTP API the
gateway checks the till's bearer token (role `pos`, bound to one store); on Kafka the same token
travels with the event as the CloudEvents extension attribute `crmcredential` (header
`ce_crmcredential` in binary mode), attached by the gateway or by a POS vendor publishing
directly. The consumer checks it here before any handler runs, so a sale written straight to the
topic cannot skip the store binding, and members' handlers never see an unauthenticated sale.

The token is judged at the time the record was published (the Kafka record timestamp), not at the
time it is read: a backlog consumed hours later is still accepted, a token that had expired when
the record was written is not.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

import jwt
from pydantic import BaseModel

from shared.auth import Role, TokenVerifier
from shared.events.envelope import Envelope

# Clocks of tills, the gateway and the brokers differ a little.
CLOCK_SKEW = timedelta(minutes=2)


class InvalidCredential(ValueError):
    """The event does not carry a valid credential of a publisher allowed to make it: dead-lettered."""


# (verifier, envelope, validated payload, publication time) -> None, or raises InvalidCredential.
CredentialCheck = Callable[[TokenVerifier, Envelope, BaseModel, datetime], None]


def till_of_the_store(verifier: TokenVerifier, envelope: Envelope, payload: BaseModel, published_at: datetime) -> None:
    """The event carries the token of a till (role pos) of the payload's store, valid at `published_at`."""
    token = envelope.crmcredential
    if not token:
        raise InvalidCredential("no till credential (CloudEvents attribute crmcredential) on a POS event")
    try:
        principal = verifier.verify_at(token, published_at, leeway=CLOCK_SKEW)
    except (jwt.PyJWTError, ValueError) as exc:  # PyJWT's messages never contain the token
        raise InvalidCredential(f"till credential rejected: {exc}") from exc
    if principal.role != Role.POS:
        raise InvalidCredential(f"credential of role {principal.role.value}, not of a till (pos)")
    store_id = getattr(payload, "store_id", None)
    if principal.store_id is None or principal.store_id != store_id:
        raise InvalidCredential(f"credential of store {principal.store_id} cannot publish for store {store_id}")
