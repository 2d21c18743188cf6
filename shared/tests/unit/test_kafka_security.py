"""Kafka authentication and TLS: one set of client arguments, from settings, for every client.

Not tested against a broker: Tansu (the test broker) accepts `--authentication`, but refuses to
create SCRAM users while it requires authentication (`tansu user create` ends in NotAuthenticated),
so SASL is exercised only in configuration here and on Apache Kafka in docker-compose.
"""

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

import shared.kafka as kafka
from shared.auth import generate_keypair
from shared.settings import ServiceSettings

SASL = dict(kafka_security_protocol="SASL_SSL", kafka_sasl_username="points", kafka_sasl_password="s3cret-scram-pw")


def _pem_pair(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate and its key, as files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "crm-test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    return cert_path, key_path


def test_plaintext_by_default_with_no_credentials() -> None:
    assert kafka.client_kwargs(ServiceSettings(kafka_bootstrap="k:9092")) == {
        "bootstrap_servers": "k:9092", "security_protocol": "PLAINTEXT",
    }


def test_sasl_ssl_carries_scram_credentials_and_a_verifying_tls_context(tmp_path: Path) -> None:
    cert, key = _pem_pair(tmp_path)
    kwargs = kafka.client_kwargs(ServiceSettings(
        **SASL, kafka_ssl_cafile=cert, kafka_ssl_certfile=cert, kafka_ssl_keyfile=key,
    ))
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert (kwargs["sasl_mechanism"], kwargs["sasl_plain_username"], kwargs["sasl_plain_password"]) == (
        "SCRAM-SHA-512", "points", "s3cret-scram-pw",
    )
    context = kwargs["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.get_ca_certs()[0]["subject"] == ((("commonName", "crm-test"),),)


def test_sasl_plaintext_has_no_tls_and_other_mechanisms_pass_through() -> None:
    kwargs = kafka.client_kwargs(ServiceSettings(**{**SASL, "kafka_security_protocol": "SASL_PLAINTEXT"},
                                                 kafka_sasl_mechanism="SCRAM-SHA-256"))
    assert "ssl_context" not in kwargs and kwargs["sasl_mechanism"] == "SCRAM-SHA-256"


def test_ssl_alone_has_tls_and_no_sasl(tmp_path: Path) -> None:
    cert, _ = _pem_pair(tmp_path)
    kwargs = kafka.client_kwargs(ServiceSettings(kafka_security_protocol="SSL", kafka_ssl_cafile=cert))
    assert "ssl_context" in kwargs and "sasl_mechanism" not in kwargs


@pytest.mark.parametrize("missing", ["kafka_sasl_username", "kafka_sasl_password"])
def test_sasl_without_credentials_is_refused_in_every_environment(missing: str) -> None:
    with pytest.raises(ValidationError, match="CRM_KAFKA_SASL_USERNAME and CRM_KAFKA_SASL_PASSWORD are required"):
        ServiceSettings(**{**SASL, missing: ""})


def test_a_client_certificate_needs_its_key(tmp_path: Path) -> None:
    cert, _ = _pem_pair(tmp_path)
    with pytest.raises(ValidationError, match="go together"):
        ServiceSettings(kafka_security_protocol="SSL", kafka_ssl_certfile=cert)


def _production(**kafka_settings) -> ServiceSettings:
    return ServiceSettings(
        environment="production", database_url="postgresql+asyncpg://crm@db/points",
        jwt_public_key=generate_keypair()[1], identity_pepper="a-long-random-pepper-value",
        public_url="https://crm.example.cn", **kafka_settings,
    )


def test_production_refuses_an_unauthenticated_broker_connection_and_placeholder_passwords() -> None:
    with pytest.raises(ValidationError, match="not PLAINTEXT"):
        _production()
    with pytest.raises(ValidationError, match="CRM_KAFKA_SASL_PASSWORD must not be a placeholder"):
        _production(**{**SASL, "kafka_sasl_password": "changeme"})
    assert _production(**SASL).kafka_security_protocol == "SASL_SSL"


def test_the_password_is_not_shown_with_the_settings() -> None:
    assert "s3cret-scram-pw" not in repr(ServiceSettings(**SASL))


async def test_producer_consumer_and_admin_client_all_use_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = ServiceSettings(**{**SASL, "kafka_security_protocol": "SASL_PLAINTEXT"}, kafka_bootstrap="k:9092")
    seen: dict[str, dict] = {}

    def recorder(name: str):
        class Client:
            def __init__(self, *topics, **kwargs) -> None:
                seen[name] = kwargs

            async def start(self) -> None:
                raise ConnectionError("no broker in this test")

        return Client

    for name in ("AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient"):
        monkeypatch.setattr(kafka, name, recorder(name))
    kafka.make_producer(settings)
    kafka.make_consumer(settings, ["t"])
    with pytest.raises(ConnectionError):
        await kafka.ensure_topics(settings, {"t"})
    assert set(seen) == {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient"}
    for kwargs in seen.values():
        assert kwargs.items() >= kafka.client_kwargs(settings).items()
        assert kwargs["sasl_plain_password"] == "s3cret-scram-pw"
