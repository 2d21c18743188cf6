"""The token endpoint: a till or a service exchanges its client credential for a short-lived token."""

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from gateway.api.oauth_form import FORM, GRANT_TYPE, read_token_request
from gateway.api.schemas import TokenOut
from gateway.config import Settings
from gateway.domain.identity import NoSigningKey
from gateway.service_layer import identity
from shared.authorize import public
from shared.deps import UowDep

router = APIRouter(prefix="/identity/v1", tags=["identity"])

_FORM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {FORM: {"schema": {
            "type": "object",
            "required": ["grant_type"],
            "properties": {
                "grant_type": {"type": "string", "enum": [GRANT_TYPE]},
                "client_id": {"type": "string", "description": "unless given in HTTP Basic"},
                "client_secret": {"type": "string", "description": "unless given in HTTP Basic"},
            },
        }}},
    },
}


@router.post("/token", dependencies=[Depends(public)], openapi_extra=_FORM_BODY)
async def token(request: Request, response: Response, uow: UowDep) -> TokenOut:
    """OAuth2 client credentials (RFC 6749 §4.4): a till gets a `pos` token of its store, a service a
    `service` token naming it. Any failed authentication is the same 401 `invalid_client`; after too
    many failures from one address within a few minutes, the address gets 429 with `Retry-After`,
    even with the right secret. Failures are not counted per client id: a till's id is no secret,
    and wrong secrets sent for it from elsewhere must not keep the till out."""
    credentials = read_token_request(
        request.headers.get("content-type"), await request.body(), request.headers.get("authorization"),
    )
    issuer = request.app.state.token_issuer
    if issuer is None:
        raise NoSigningKey()
    settings: Settings = request.app.state.settings
    issued = await identity.exchange(
        uow, issuer, request.app.state.exchange_guard, timedelta(seconds=settings.identity_token_ttl_s),
        client_id=credentials.client_id, secret=credentials.client_secret,
        address=request.client.host if request.client else "unknown",
    )
    # RFC 6749 §5.1: a token must not be kept by caches on the way.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return TokenOut(access_token=issued.access_token, expires_in=issued.expires_in)
