"""What a caller is told about a refused bearer token, at every service (`shared.auth.current_principal`):
the platform's own checks name their reason; what the decoder says about a malformed or foreign
token stays in the log, and the caller reads a plain "invalid token"."""

import logging
import time
from datetime import timedelta
from typing import Annotated

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import Depends, FastAPI

from shared.auth import Principal, Role, TokenIssuer, TokenVerifier, current_principal, generate_keypair

PRIVATE, PUBLIC = generate_keypair()
OTHER_PRIVATE, _ = generate_keypair()


def _signed(private: str, **claims) -> str:
    key = serialization.load_pem_private_key(private.encode(), password=None)
    return jwt.encode({"iss": "crm-identity", "aud": "crm", **claims}, key, algorithm="EdDSA")


def _now() -> int:
    return int(time.time())


@pytest.fixture
def client() -> httpx.AsyncClient:
    app = FastAPI()
    app.state.verifier = TokenVerifier(PUBLIC, "crm-identity", "crm")

    @app.get("/me")
    async def me(principal: Annotated[Principal, Depends(current_principal)]) -> dict[str, str]:
        return {"subject": principal.subject}

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")


async def _refusal(client: httpx.AsyncClient, token: str) -> str:
    r = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    return r.json()["detail"]


@pytest.mark.parametrize("token", [
    pytest.param("abc.def.ghi", id="not base64 JSON"),
    pytest.param("abc", id="one segment"),
    pytest.param(_signed(OTHER_PRIVATE, sub="x", role="admin", iat=_now(), exp=_now() + 60), id="signed by another key"),
    pytest.param(_signed(PRIVATE, sub="x", role="admin", iat=_now(), exp=_now() + 60, aud="elsewhere"), id="another audience"),
    pytest.param(_signed(PRIVATE, sub="x", role="cashier", iat=_now(), exp=_now() + 60), id="an unknown role"),
])
async def test_a_token_the_decoder_refuses_is_a_plain_invalid_token_and_the_reason_is_logged(
    client, token: str, caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="shared.auth"):
        assert await _refusal(client, token) == "invalid token"
    [record] = [r for r in caplog.records if r.name == "shared.auth"]
    assert record.levelno == logging.INFO and "GET /me" in record.getMessage()


async def test_the_decoders_words_are_in_the_log_not_the_answer(client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="shared.auth"):
        detail = await _refusal(client, "abc.def.ghi")
    assert "codec" not in detail and "header" not in detail
    assert "Invalid header string" in caplog.text and "DecodeError" in caplog.text


@pytest.mark.parametrize(("token", "reason"), [
    (_signed(PRIVATE, sub="x", role="admin", iat=_now() - 120, exp=_now() - 60), "token had expired at that time"),
    (TokenIssuer(PRIVATE).mint("x", Role.MEMBER), "token for role member must carry claim member_id"),
    (TokenIssuer(PRIVATE).mint("x", Role.ADMIN, ttl=timedelta(days=2)), "exceeds the 12:00:00 allowed for role admin"),
    (_signed(PRIVATE, sub="x", role="admin", exp=_now() + 60), "token must carry claim iat"),
    ("x" * 5000, "token is longer than 4096 characters"),
])
async def test_the_platforms_own_checks_name_their_reason(client, token: str, reason: str) -> None:
    detail = await _refusal(client, token)
    assert detail.startswith("invalid token: ") and reason in detail
