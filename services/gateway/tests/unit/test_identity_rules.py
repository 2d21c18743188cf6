"""The rules of client credentials: bindings, token grants, secret hashing, the failure throttle,
reading the token request, and the signing key the gateway starts with."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from gateway.adapters.signing import SigningKeyMismatch, issuer_from
from gateway.api.oauth_form import ClientCredentials, read_token_request
from gateway.config import Settings
from gateway.domain.identity import (
    ClientKind,
    InvalidClient,
    OAuthError,
    UnsupportedGrantType,
    binding,
    grant_for,
    hash_secret,
    secret_matches,
)
from gateway.domain.throttle import ExchangeGuard, FailureThrottle
from shared.auth import Role, TokenVerifier, generate_keypair
from shared.errors import Invalid

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FORM = "application/x-www-form-urlencoded"


def test_a_till_is_bound_to_a_store_and_a_service_client_to_a_service_name() -> None:
    assert binding(ClientKind.TILL, "S001", None).store_id == "S001"
    assert binding(ClientKind.SERVICE, None, "campaigns").service == "campaigns"
    for kind, store, service, field in [
        (ClientKind.TILL, None, None, "store_id"), (ClientKind.TILL, "S001", "campaigns", "service"),
        (ClientKind.SERVICE, None, None, "service"), (ClientKind.SERVICE, None, "a", "service"),
        (ClientKind.SERVICE, None, "Campaigns", "service"), (ClientKind.SERVICE, "S001", "campaigns", "store_id"),
    ]:
        with pytest.raises(Invalid) as refused:
            binding(kind, store, service)
        assert refused.value.field == field


def test_a_till_speaks_as_itself_for_its_store_and_a_service_as_its_service() -> None:
    till = grant_for("till_ab12", ClientKind.TILL, "S001", None)
    assert (till.subject, till.role, till.store_id) == ("till_ab12", Role.POS, "S001")
    svc = grant_for("svc_cd34", ClientKind.SERVICE, None, "campaigns")
    assert (svc.subject, svc.role, svc.store_id) == ("campaigns", Role.SERVICE, None)


def test_a_secret_matches_only_its_own_hash() -> None:
    digest = hash_secret("s3cret")
    assert len(digest) == 64 and "s3cret" not in digest
    assert secret_matches("s3cret", digest)
    assert not secret_matches("s3cret ", digest) and not secret_matches("", digest)


def test_the_throttle_blocks_after_the_limit_until_the_oldest_failure_leaves_the_window() -> None:
    throttle = FailureThrottle(timedelta(seconds=60), limit=3)
    for seconds in (0, 10, 20):
        assert throttle.retry_after("k", T0 + timedelta(seconds=seconds)) is None
        throttle.fail("k", T0 + timedelta(seconds=seconds))
    assert throttle.retry_after("k", T0 + timedelta(seconds=30)) == 30
    assert throttle.retry_after("other", T0 + timedelta(seconds=30)) is None
    assert throttle.retry_after("k", T0 + timedelta(seconds=60)) is None  # the first one has left
    throttle.clear("k")
    assert throttle.retry_after("k", T0 + timedelta(seconds=30)) is None


def test_looking_keys_up_keeps_no_memory_and_a_flood_of_keys_stays_bounded() -> None:
    throttle = FailureThrottle(timedelta(seconds=60), limit=1, max_keys=10)
    for n in range(100):
        throttle.retry_after(f"looked-{n}", T0)
    assert throttle._failures == {}
    for n in range(100):
        throttle.fail(f"key-{n}", T0)
    assert len(throttle._failures) <= 10
    assert throttle.retry_after("key-99", T0) == 60  # the newest are kept


def test_a_success_clears_its_client_but_not_its_address() -> None:
    guard = ExchangeGuard(timedelta(seconds=60), per_client=2, per_address=3)
    guard.failed("till_a", "10.0.0.1", T0)
    guard.failed("till_a", "10.0.0.1", T0)
    assert guard.retry_after("till_a", "10.0.0.2", T0) == 60
    guard.succeeded("till_a")
    assert guard.retry_after("till_a", "10.0.0.2", T0) is None
    guard.failed("till_b", "10.0.0.1", T0)
    assert guard.retry_after("till_c", "10.0.0.1", T0) == 60


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_credentials_come_from_http_basic_or_the_form() -> None:
    grant = b"grant_type=client_credentials"
    assert read_token_request(FORM, grant, basic("till_a", "s+1")) == ClientCredentials("till_a", "s 1")
    assert read_token_request(FORM, grant, basic("till%3Aa", "s%3A1")) == ClientCredentials("till:a", "s:1")
    assert read_token_request(f"{FORM}; charset=UTF-8", grant + b"&client_id=till_a&client_secret=s", None) == \
        ClientCredentials("till_a", "s")
    assert read_token_request(FORM, grant + b"&client_id=till_a", basic("till_a", "s")) == ClientCredentials("till_a", "s")


@pytest.mark.parametrize(("content_type", "body", "authorization", "refusal", "field"), [
    ("application/json", b"{}", None, OAuthError, "body"),
    (None, b"grant_type=client_credentials", None, OAuthError, "body"),
    (FORM, b"", None, OAuthError, "grant_type"),
    (FORM, b"grant_type=authorization_code", None, UnsupportedGrantType, "grant_type"),
    (FORM, b"grant_type=client_credentials&scope=a&scope=b", None, OAuthError, "scope"),
    (FORM, b"grant_type=client_credentials&client_secret=s", basic("a", "s"), OAuthError, "client_secret"),
    (FORM, b"grant_type=client_credentials&client_id=b", basic("a", "s"), OAuthError, "client_id"),
    (FORM, b"grant_type=client_credentials&" + b"&".join(b"x%d=1" % n for n in range(20)), None, OAuthError, "body"),
])
def test_a_malformed_request_names_its_field(content_type, body, authorization, refusal, field) -> None:
    with pytest.raises(refusal) as refused:
        read_token_request(content_type, body, authorization)
    assert str(refused.value).startswith(f"{field}:")
    assert type(refused.value) is refusal


@pytest.mark.parametrize("authorization", [
    "Bearer abc", "Basic not-base64!", "Basic " + base64.b64encode(b"no-colon").decode(),
    "Basic " + base64.b64encode(b":secret-without-id").decode(), "Basic " + base64.b64encode(b"\xff:x").decode(),
])
def test_an_unreadable_authorization_header_is_invalid_client(authorization) -> None:
    with pytest.raises(InvalidClient):
        read_token_request(FORM, b"grant_type=client_credentials", authorization)


def test_no_credentials_at_all_is_invalid_client() -> None:
    with pytest.raises(InvalidClient):
        read_token_request(FORM, b"grant_type=client_credentials&client_id=till_a", None)


def production(**values) -> Settings:
    _, public = generate_keypair()
    base = dict(
        environment="production", database_url="postgresql+asyncpg://db/gateway", jwt_public_key=public,
        identity_pepper="a-real-pepper-of-some-length", kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="gateway", kafka_sasl_password="a-real-password", public_url="https://crm.example.cn",
    )
    return Settings(**{**base, **values})


def test_production_refuses_to_start_without_a_signing_key_only_while_identity_is_on(tmp_path) -> None:
    with pytest.raises(ValidationError, match="CRM_JWT_PRIVATE_KEY"):
        production()
    with pytest.raises(ValidationError, match="CRM_JWT_PRIVATE_KEY_FILE"):
        production(jwt_private_key_file=tmp_path / "missing.pem")
    assert production(identity_enabled=False).identity_enabled is False
    private, _ = generate_keypair()
    assert production(jwt_private_key=private).resolved_private_key() == private
    (tmp_path / "key.pem").write_text(private)
    assert production(jwt_private_key_file=tmp_path / "key.pem").resolved_private_key() == private


def test_a_token_lifetime_beyond_what_the_services_accept_is_refused() -> None:
    with pytest.raises(ValidationError, match="identity_token_ttl_s"):
        Settings(identity_token_ttl_s=7200)


def test_the_issuer_signs_with_the_private_half_of_the_verification_key(tmp_path) -> None:
    private, public = generate_keypair()
    settings = Settings(environment="test", data_dir=tmp_path, jwt_private_key=private, jwt_public_key=public)
    issuer = issuer_from(settings)
    assert issuer is not None
    token = issuer.mint("till_a", Role.POS, store_id="S001", ttl=timedelta(minutes=15))
    assert TokenVerifier(public, settings.jwt_issuer, settings.jwt_audience).verify(token).store_id == "S001"

    _, other_public = generate_keypair()
    with pytest.raises(SigningKeyMismatch):
        issuer_from(Settings(environment="test", data_dir=tmp_path, jwt_private_key=private, jwt_public_key=other_public))
    # Development without any key: nothing to sign with, and the endpoint says so (503).
    assert issuer_from(Settings(environment="test", data_dir=tmp_path / "empty", jwt_public_key=public)) is None
