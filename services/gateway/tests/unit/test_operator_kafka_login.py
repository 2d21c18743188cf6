"""The console's operator login to the broker: validated like the gateway's own, and used by the
console's broker clients (dead letters, replays, consumer lag) and by nothing else."""

from typing import Any

import pytest
from pydantic import ValidationError

import gateway.adapters.consumer_lag as consumer_lag
import gateway.adapters.dead_letter_topic as dead_letter_topic
import shared.kafka as kafka
from gateway.adapters.operator_kafka import operator_settings
from gateway.config import Settings
from gateway.domain.dead_letters import DeadLetter
from shared.auth import generate_keypair

OWN = dict(kafka_security_protocol="SASL_SSL", kafka_sasl_username="gateway", kafka_sasl_password="gateway-scram-pw")
OPERATOR = dict(operator_kafka_sasl_username="crm-operator", operator_kafka_sasl_password="operator-scram-pw")


def test_without_an_operator_login_the_console_uses_the_gateways_own() -> None:
    settings = Settings(**OWN)
    assert operator_settings(settings) is settings
    assert kafka.client_kwargs(operator_settings(settings))["sasl_plain_username"] == "gateway"


def test_the_operator_login_replaces_only_the_sasl_credentials() -> None:
    settings = Settings(**OWN, **OPERATOR, kafka_bootstrap="k:9093")
    login = kafka.client_kwargs(operator_settings(settings))
    assert (login["sasl_plain_username"], login["sasl_plain_password"]) == ("crm-operator", "operator-scram-pw")
    assert login.items() >= {"bootstrap_servers": "k:9093", "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512"}.items()
    # The gateway's own clients (relay, consumer) keep the gateway's login.
    assert kafka.client_kwargs(settings)["sasl_plain_username"] == "gateway"
    assert "operator-scram-pw" not in repr(settings)


@pytest.mark.parametrize("missing", ["operator_kafka_sasl_username", "operator_kafka_sasl_password"])
def test_half_an_operator_login_is_refused_in_every_environment(missing: str) -> None:
    with pytest.raises(ValidationError, match="CRM_OPERATOR_KAFKA_SASL_USERNAME and CRM_OPERATOR_KAFKA_SASL_PASSWORD are required"):
        Settings(**OWN, **{**OPERATOR, missing: ""})


def test_an_operator_login_without_sasl_is_refused_rather_than_ignored() -> None:
    with pytest.raises(ValidationError, match="need a SASL CRM_KAFKA_SECURITY_PROTOCOL, not PLAINTEXT"):
        Settings(**OPERATOR)


def test_production_refuses_a_placeholder_operator_password() -> None:
    production = dict(environment="production", database_url="postgresql+asyncpg://gateway@db/gateway",
                      jwt_public_key=generate_keypair()[1], identity_pepper="a-long-random-pepper-value",
                      public_url="https://crm.example.cn", identity_enabled=False, **OWN)
    with pytest.raises(ValidationError, match="CRM_OPERATOR_KAFKA_SASL_PASSWORD must not be a placeholder"):
        Settings(**production, **{**OPERATOR, "operator_kafka_sasl_password": "changeme"})
    assert Settings(**production, **OPERATOR).operator_kafka_sasl_username == "crm-operator"


def test_operator_login_is_read_from_its_own_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_OPERATOR_KAFKA_SASL_USERNAME", "crm-operator")
    monkeypatch.setenv("CRM_OPERATOR_KAFKA_SASL_PASSWORD", "operator-scram-pw")
    settings = Settings(**OWN)
    assert operator_settings(settings).kafka_sasl_username == "crm-operator"


class Refused(Exception):
    pass


def recorder(seen: list[dict[str, Any]]) -> type:
    class Client:
        def __init__(self, *topics: str, **kwargs: Any) -> None:
            seen.append(kwargs)

        async def start(self) -> None:
            raise Refused("no broker in this test")

        async def stop(self) -> None:
            pass

    return Client


async def test_the_consoles_broker_clients_log_in_as_the_operator(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(**OWN, **OPERATOR)
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(dead_letter_topic, "AIOKafkaConsumer", recorder(seen))
    monkeypatch.setattr(consumer_lag, "AIOKafkaConsumer", recorder(seen))
    monkeypatch.setattr(kafka, "AIOKafkaProducer", recorder(seen))
    topic = dead_letter_topic.DeadLetterTopic(settings)
    with pytest.raises(Refused):
        await topic.read(10)
    with pytest.raises(Refused):
        await topic.republish(DeadLetter(partition=0, offset=7, key="m-1", value=b"{}", written_at=None,
                                         headers=(("dlq_original_topic", "crm.members.events"),)))
    with pytest.raises(Refused):
        await consumer_lag.group_lags(settings, ["members"], 10)
    assert len(seen) == 3
    assert [(kw["sasl_plain_username"], kw["sasl_plain_password"]) for kw in seen] == [("crm-operator", "operator-scram-pw")] * 3
