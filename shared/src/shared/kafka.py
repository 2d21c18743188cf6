"""aiokafka clients configured from settings, and topic provisioning."""

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

# Four, because that is what Tansu gives a topic it auto-creates: after an in-memory broker restart a
# producer's retried send can re-create a topic before our provisioning runs, and consumers must
# then still find the partitions they committed to. (Production clusters provision topics ahead.)
DEFAULT_PARTITIONS = 4
# aiokafka's stop() can wait on a group join or a dead broker; shutdown must not hang on it.
CLOSE_TIMEOUT_S = 5.0


def record_time(timestamp_ms: int | None) -> datetime | None:
    """A record's timestamp as a moment; None when it has none, or when it is no time in
    milliseconds (a producer writing microseconds): any producer may write a topic."""
    if not timestamp_ms or timestamp_ms <= 0:
        return None
    try:
        return datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def client_kwargs(settings: ServiceSettings) -> dict[str, Any]:
    """Connection and authentication arguments common to every aiokafka client (producer,
    consumer, admin): the one place the broker's address, TLS and SASL settings are applied."""
    kwargs: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol in {"SSL", "SASL_SSL"}:
        kwargs["ssl_context"] = create_ssl_context(
            cafile=settings.kafka_ssl_cafile, certfile=settings.kafka_ssl_certfile, keyfile=settings.kafka_ssl_keyfile
        )
    if settings.kafka_security_protocol.startswith("SASL_"):
        kwargs["sasl_mechanism"] = settings.kafka_sasl_mechanism
        kwargs["sasl_plain_username"] = settings.kafka_sasl_username
        kwargs["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return kwargs


def make_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    # acks=all; no idempotent producer because Tansu does not implement InitProducerId. A retried
    # batch may therefore land twice, which the consumers' dedupe-by-event-id absorbs.
    return AIOKafkaProducer(
        **client_kwargs(settings),
        client_id=f"{settings.service_name}-producer",
        acks="all",
        linger_ms=5,
        request_timeout_ms=15_000,
    )


def make_consumer(settings: ServiceSettings, topics: list[str], group_id: str | None = None) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        **client_kwargs(settings),
        client_id=f"{settings.service_name}-consumer",
        group_id=group_id or settings.consumer_group,
        enable_auto_commit=False,  # offsets are committed only after the database commit
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        max_poll_records=settings.consumer_batch_size,
        isolation_level="read_committed",
    )


async def close_quietly(client: AIOKafkaProducer | AIOKafkaConsumer | None) -> None:
    """Stops a client on shutdown or reconnect: a broken one must neither block nor mask the error
    that made us close it."""
    if client is None:
        return
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT_S):
            await client.stop()
    except Exception:
        log.debug("error while closing a kafka client", exc_info=True)
    except asyncio.CancelledError:
        # aiokafka lets the cancellation of its own fetch task out of stop() when the broker died
        # under it; taken for ours, it would end the service's shutdown before the rest is closed.
        # A cancellation of this task itself goes on.
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        log.debug("a kafka client's own task was cancelled while it closed", exc_info=True)


async def ensure_topics(settings: ServiceSettings, topics: set[str], partitions: int = DEFAULT_PARTITIONS) -> None:
    """Create missing topics; a no-op for ones that exist. Safe to call from every service."""
    admin = AIOKafkaAdminClient(**client_kwargs(settings), request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if not missing:
            return
        try:
            await admin.create_topics(
                [NewTopic(t, num_partitions=partitions, replication_factor=settings.kafka_replication_factor) for t in missing]
            )
            log.info("created topics", extra={"topics": missing})
        except TopicAlreadyExistsError:
            pass
    finally:
        await admin.close()
