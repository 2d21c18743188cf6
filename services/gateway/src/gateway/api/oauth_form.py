"""Reading an OAuth2 client-credentials token request (RFC 6749 §4.4.2): a form body with
`grant_type=client_credentials`, and the client's id and secret in HTTP Basic (§2.3.1) or the form.

Parsed here rather than with FastAPI's `Form`, which needs a multipart parser this urlencoded-only
endpoint has no use for."""

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_plus

from gateway.domain.identity import InvalidClient, OAuthError, UnsupportedGrantType

FORM = "application/x-www-form-urlencoded"
GRANT_TYPE = "client_credentials"
# A token request has four parameters at most (and `scope`); more is not a token request.
MAX_FIELDS = 10


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    client_id: str
    client_secret: str


def read_token_request(content_type: str | None, body: bytes, authorization: str | None) -> ClientCredentials:
    """The credentials of a well-formed request; OAuthError (400) naming the field for a malformed
    one, InvalidClient (401) when no credentials are given or the header cannot be read."""
    if (content_type or "").split(";")[0].strip().lower() != FORM:
        raise OAuthError(f"body: a token request is a form ({FORM})")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body), max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise OAuthError("body: the form is not UTF-8") from None
    except ValueError:
        raise OAuthError(f"body: not a form, or more than {MAX_FIELDS} fields") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:  # RFC 6749 §3.2: no parameter more than once
            raise OAuthError(f"{name}: given more than once")
        form[name] = value
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("grant_type: required")
    if grant_type != GRANT_TYPE:
        raise UnsupportedGrantType(f"grant_type: only {GRANT_TYPE} is supported")
    basic = _basic(authorization) if authorization else None
    if basic is not None:
        if "client_secret" in form:  # RFC 6749 §2.3: one authentication method per request
            raise OAuthError("client_secret: given in both the Authorization header and the form; use one")
        if "client_id" in form and form["client_id"] != basic.client_id:
            raise OAuthError("client_id: differs from the one in the Authorization header")
        return basic
    if not form.get("client_id") or not form.get("client_secret"):
        raise InvalidClient()
    return ClientCredentials(form["client_id"], form["client_secret"])


def _basic(authorization: str) -> ClientCredentials:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClient()
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient() from None
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id:
        raise InvalidClient()
    # Both halves are form-urlencoded before they are joined (RFC 6749 §2.3.1).
    return ClientCredentials(unquote_plus(client_id), unquote_plus(secret))
