"""Settings refuse unsafe production configuration; tokens carry role and scope and are verified."""

from datetime import timedelta

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


def test_production_accepts_real_secrets() -> None:
    _, public = generate_keypair()
    settings = ServiceSettings(
        environment="production", database_url="postgresql+asyncpg://crm@db/points",
        jwt_public_key=public, identity_pepper="a-long-random-pepper-value",
        kafka_security_protocol="SASL_SSL", kafka_sasl_username="points", kafka_sasl_password="a-scram-password",
    )
    assert not settings.is_development


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

