"""The Kafka identity of the console's operator actions.

Measuring the event flow reads every platform topic and every consumer group's committed offsets;
the dead-letter pages read `crm.dead-letter` and replay records onto the topic each came from,
which another service owns. On a broker with ACLs the gateway's own user may do none of that (it
writes only the POS topic), so these clients log in as the operator's user
(`CRM_OPERATOR_KAFKA_SASL_USERNAME` / `_PASSWORD`, the KafkaUser `crm-operator` in deploy/k8s) and
everything else of the gateway keeps its own. Unset, the gateway's own login is used: the embedded
broker of `crm run` has no ACLs."""

from gateway.config import Settings


def operator_settings(settings: Settings) -> Settings:
    """The settings the console's broker clients are built from (`shared.kafka.client_kwargs`,
    `make_producer`): the gateway's, with the operator's login when one is configured."""
    if not settings.operator_kafka_sasl_username:
        return settings
    # Validated as a pair with the security protocol by Settings; a copy, so the gateway's own
    # clients (POS relay, consumer) never see the operator's password.
    return settings.model_copy(update={
        "kafka_sasl_username": settings.operator_kafka_sasl_username,
        "kafka_sasl_password": settings.operator_kafka_sasl_password,
    })
