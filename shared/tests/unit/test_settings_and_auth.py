"""Settings refuse unsafe production configuration; tokens carry role and scope and are verified."""

import time
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from pydantic import ValidationError

from shared.auth import Role, TokenIssuer, TokenVerifier, generate_keypair
from shared.settings import ServiceSettings


def test_production_refuses_missing_and_placeholder_secrets() -> None:
    with pytest.raises(ValidationError) as exc:
        ServiceSettings(environment="production", jwt_public_key="changeme", identity_pepper="secret")
    text = str(exc.value)
    assert "CRM_DATABASE_URL" in text and "CRM_JWT_PUBLIC_KEY" in text and "CRM_IDENTITY_PEPPER" in text
    assert "CRM_PUBLIC_URL must be set in production" in text


def test_production_accepts_real_secrets() -> None:
    _, public = generate_keypair()
    settings = ServiceSettings(
        environment="production", database_url="postgresql+asyncpg://crm@db/points",
        jwt_public_key=public, identity_pepper="a-long-random-pepper-value",
        kafka_security_protocol="SASL_SSL", kafka_sasl_username="points", kafka_sasl_password="a-scram-password",
        public_url="https://crm.example.cn",
    )
    assert not settings.is_development
    assert settings.public_base == "https://crm.example.cn"


def test_the_public_address_defaults_to_the_local_gateway_and_must_be_an_http_address() -> None:
    assert ServiceSettings().public_base == "http://127.0.0.1:8000"
    assert ServiceSettings(public_url="https://crm.example.cn/shop/").public_base == "https://crm.example.cn/shop"
    for bad in ("crm.example.cn", "ftp://crm.example.cn", "https://crm.example.cn/?x=1", "https://"):
        with pytest.raises(ValidationError, match="CRM_PUBLIC_URL must be an http\\(s\\) address"):
            ServiceSettings(public_url=bad)


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("CRM_KAFKA_TOPIC_PREFIX", "staging.")
    settings = ServiceSettings()
    assert settings.kafka_bootstrap == "kafka:9092"
    assert settings.topic("crm.pos.purchases") == "staging.crm.pos.purchases"


def test_development_database_defaults_to_a_sqlite_file_per_service(tmp_path) -> None:
    settings = ServiceSettings(service_name="points", data_dir=tmp_path)
    assert settings.database == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'points.db'}"


def test_token_round_trip_carries_role_and_store() -> None:
    private, public = generate_keypair()
    token = TokenIssuer(private).mint("pos-1", Role.POS, store_id="S001")
    principal = TokenVerifier(public, "crm-identity", "crm").verify(token)
    assert (principal.role, principal.store_id, principal.subject) == (Role.POS, "S001", "pos-1")


def test_token_signed_with_another_key_is_rejected() -> None:
    private, _ = generate_keypair()
    _, other_public = generate_keypair()
    with pytest.raises(jwt.InvalidSignatureError):
        TokenVerifier(other_public, "crm-identity", "crm").verify(TokenIssuer(private).mint("x", Role.ADMIN))


def test_expired_token_is_rejected() -> None:
    private, public = generate_keypair()
    token = TokenIssuer(private).mint("x", Role.ADMIN, ttl=timedelta(seconds=-1))
    with pytest.raises(jwt.ExpiredSignatureError):
        TokenVerifier(public, "crm-identity", "crm").verify(token)


def test_a_verified_token_is_remembered_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    private, public = generate_keypair()
    verifier = TokenVerifier(public, "crm-identity", "crm")
    token = TokenIssuer(private).mint("pos-1", Role.POS, store_id="S001", ttl=timedelta(seconds=2))
    first = verifier.verify(token)
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    with monkeypatch.context() as patched:
        patched.setattr(jwt, "decode", lambda *a, **k: pytest.fail("a remembered token was decoded again"))
        assert verifier.verify(token) is first

    # Past its exp the remembered answer is dropped and the token decoded again, which refuses it.
    time.sleep(max(0.0, exp - time.time()) + 0.05)
    with pytest.raises(jwt.ExpiredSignatureError):
        verifier.verify(token)


def test_a_remembered_token_changed_by_one_character_is_verified_afresh() -> None:
    private, public = generate_keypair()
    verifier = TokenVerifier(public, "crm-identity", "crm")
    token = TokenIssuer(private).mint("x", Role.ADMIN)
    verifier.verify(token)
    head, payload, signature = token.split(".")
    tampered = ".".join((head, payload, ("A" if signature[0] != "A" else "B") + signature[1:]))
    with pytest.raises(jwt.InvalidSignatureError):
        verifier.verify(tampered)


def _signed(private: str, **claims) -> str:
    """A token with exactly these claims (and the usual issuer and audience), bypassing TokenIssuer."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private.encode(), password=None)
    return jwt.encode({"iss": "crm-identity", "aud": "crm", **claims}, key, algorithm="EdDSA")


def test_a_token_longer_than_4_kb_is_rejected_before_decoding() -> None:
    private, public = generate_keypair()
    token = _signed(private, sub="x", role="admin", iat=int(time.time()), exp=int(time.time()) + 60,
                    padding="p" * 1_300_000)
    with pytest.raises(jwt.InvalidTokenError, match="longer than 4096 characters"):
        TokenVerifier(public, "crm-identity", "crm").verify(token)


def test_a_token_valid_for_a_hundred_years_is_rejected_naming_the_limit() -> None:
    private, public = generate_keypair()
    token = TokenIssuer(private).mint("x", Role.ADMIN, ttl=timedelta(days=36500))
    with pytest.raises(jwt.InvalidTokenError, match="exceeds the 12:00:00 allowed for role admin"):
        TokenVerifier(public, "crm-identity", "crm").verify(token)


def test_a_token_without_issued_at_is_rejected() -> None:
    private, public = generate_keypair()
    token = _signed(private, sub="x", role="admin", exp=int(time.time()) + 60)
    with pytest.raises(jwt.MissingRequiredClaimError, match="iat"):
        TokenVerifier(public, "crm-identity", "crm").verify(token)


@pytest.mark.parametrize(("role", "ttl"), [
    (Role.ADMIN, timedelta(hours=12)), (Role.POS, timedelta(hours=24)), (Role.MEMBER, timedelta(days=30)),
])
def test_each_role_gets_its_own_maximum_lifetime(role: Role, ttl: timedelta) -> None:
    private, public = generate_keypair()
    claims = {"store_id": "S001"} if role == Role.POS else {"member_id": "m1"} if role == Role.MEMBER else {}
    verifier = TokenVerifier(public, "crm-identity", "crm")
    assert verifier.verify(TokenIssuer(private).mint("x", role, ttl=ttl, **claims)).role == role
    with pytest.raises(jwt.InvalidTokenError, match="lifetime"):
        verifier.verify(TokenIssuer(private).mint("x", role, ttl=ttl + timedelta(minutes=1), **claims))


@pytest.mark.parametrize(("role", "claim"), [(Role.MEMBER, "member_id"), (Role.POS, "store_id")])
def test_a_token_without_the_claim_its_role_needs_is_rejected(role: Role, claim: str) -> None:
    private, public = generate_keypair()
    token = TokenIssuer(private).mint("x", role)
    with pytest.raises(jwt.InvalidTokenError, match=f"token for role {role.value} must carry claim {claim}"):
        TokenVerifier(public, "crm-identity", "crm").verify(token)


def test_every_role_has_a_maximum_lifetime() -> None:
    from shared.auth import MAX_TOKEN_LIFETIME

    assert set(MAX_TOKEN_LIFETIME) == set(Role)


@pytest.mark.parametrize("role", [Role.SERVICE, Role.MARKETING])
def test_the_cli_default_lifetime_fits_the_role(role: Role, capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crm_cli.main import main
    from shared.auth import MAX_TOKEN_LIFETIME, ensure_dev_keypair

    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    _, public = ensure_dev_keypair(tmp_path / "keys")
    assert main(["token", "--role", role.value]) == 0
    principal = TokenVerifier(public, "crm-identity", "crm").verify(capsys.readouterr().out.strip())
    claims = jwt.decode(principal.token, options={"verify_signature": False})
    lifetime = timedelta(seconds=claims["exp"] - claims["iat"])
    assert lifetime == min(timedelta(hours=12), MAX_TOKEN_LIFETIME[role])


def test_the_cli_refuses_to_mint_a_token_the_services_would_refuse(capsys: pytest.CaptureFixture[str]) -> None:
    from crm_cli.main import main

    assert main(["token", "--role", "admin", "--ttl-hours", "48"]) == 2
    assert "may live at most 12 hours" in capsys.readouterr().err
