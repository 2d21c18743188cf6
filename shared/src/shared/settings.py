"""Typed settings shared by every service.

Each process reads its own environment (``CRM_*``): in docker-compose and Kubernetes every
service gets its own ``CRM_DATABASE_URL``; the local launcher does the same per subprocess.
Outside development the settings refuse to start with a missing or placeholder secret, so a
misconfigured production pod fails at boot instead of running with a guessable key.
"""

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.zones import TimeZoneName

# Where `crm run` serves the gateway with the default CRM_BASE_PORT.
DEVELOPMENT_PUBLIC_URL = "http://127.0.0.1:8000"
PLACEHOLDERS = {"", "changeme", "change-me", "changethis", "secret", "dev", "development"}

# A scheme, a host and an optional port and path; no query or fragment, since paths are appended.
PUBLIC_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")
Environment = Literal["development", "test", "production"]
KafkaSecurityProtocol = Literal["PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL"]
KafkaSaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


def sasl_login_problems(variables: str, protocol: KafkaSecurityProtocol, username: str, password: SecretStr,
                        *, production: bool) -> list[str]:
    """What is wrong with a SASL login read from `<variables>_USERNAME` and `<variables>_PASSWORD`:
    the one home of the rule, for the service's own login and for any other a service logs in with
    (the gateway's operator login). A SASL protocol needs both; production refuses a placeholder."""
    problems = []
    if protocol.startswith("SASL_") and not (username and password.get_secret_value()):
        problems.append(f"{variables}_USERNAME and {variables}_PASSWORD are required with {protocol}")
    if production and password.get_secret_value().strip().lower() in PLACEHOLDERS - {""}:
        problems.append(f"{variables}_PASSWORD must not be a placeholder")
    return problems


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", extra="ignore")

    service_name: str = "crm"
    environment: Environment = "development"
    data_dir: Path = Path(".crm-data")

    database_url: str = ""
    # Migrations run at start-up in development; production runs `crm migrate <service>` as an
    # init step so that several replicas never race on the schema.
    auto_migrate: bool = True

    kafka_bootstrap: str = "127.0.0.1:9092"
    # Lets several stacks (or test cases) share one broker without seeing each other's events.
    kafka_topic_prefix: str = ""
    # Topics a service creates when missing; on a real cluster use 3 (or provision them ahead).
    kafka_replication_factor: int = 1
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    # How the clients authenticate to the broker; shared.kafka.client_kwargs applies these to every
    # producer, consumer and admin client. Broker ACLs are granted per SASL user, so production
    # refuses PLAINTEXT (an anonymous client the ACLs cannot tell apart from any other).
    kafka_security_protocol: KafkaSecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: KafkaSaslMechanism = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    # CA bundle that signed the brokers' certificates (SSL, SASL_SSL); the system store if unset.
    kafka_ssl_cafile: Path | None = None
    # A client certificate and its key, for brokers that authenticate clients by mTLS.
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    # Whether this process consumes events; off for replicas that only serve the API (and for
    # API tests, which hand events to the consumer's apply path themselves).
    consume_events: bool = True
    consumer_batch_size: int = 500
    # Partitions whose batches are applied at once, each in its own transaction: while one waits
    # for the database, the next is parsed and booked. 1 applies them one after the other; more
    # suits a service whose handlers touch only rows keyed like its events (points).
    consumer_partitions_in_flight: int = Field(default=1, ge=1, le=16)
    consumer_max_attempts: int = 3
    # How long the consumer's record of applied event ids (its dedupe) keeps an id. It must exceed
    # the longest a record can be delivered again: the topics' retention (Kafka's default: 7
    # days), since a group idle for longer than the broker keeps its offsets (also 7 days) starts
    # again from the oldest record kept. 0 keeps every id for ever.
    processed_events_retention_s: float = Field(default=14 * 86400.0, ge=0)
    processed_events_cleanup_every_s: float = Field(default=3600.0, gt=0)
    outbox_batch_size: int = 500
    outbox_poll_interval_s: float = 1.0
    # How often the relay looks for pending rows below the ones it last published (a transaction
    # that took an id early but committed late); in between it scans from there on.
    outbox_sweep_interval_s: float = 1.0
    outbox_retention_s: float = 3600.0
    # How often an idle relay checks, with a heartbeat record, that the broker still has its log.
    outbox_heartbeat_interval_s: float = 5.0

    # Scheduled jobs (expiry, escalation, analytics) run inside each replica; they are idempotent,
    # so running them on every replica is safe. Tests switch them off and call them directly.
    jobs_enabled: bool = True

    # PEM text of the Ed25519 public key that verifies bearer tokens; in development it falls
    # back to the key file in the data directory (written by `crm token` / `crm run`).
    jwt_public_key: str = ""
    jwt_issuer: str = "crm-identity"
    jwt_audience: str = "crm"

    # Key of the HMAC that turns a phone number into a pseudonymous digest, so events can
    # identify a customer by phone without carrying the number itself.
    identity_pepper: str = ""

    # Largest request body accepted (413 beyond it, before the body is read): registrations, sales
    # of up to 500 lines and bulk jobs all fit well inside 1 MB.
    max_body_bytes: int = Field(default=1_048_576, ge=1)
    # How far ahead of this server's clock a client's timestamp (a sale's time) may be: tills'
    # clocks drift a little; a sale dated beyond that is a client error, not a future sale.
    clock_skew_s: float = Field(default=300.0, ge=0)

    # The address customers and their apps reach the platform at (the gateway, behind whatever
    # proxy or ingress serves it): links in messages (survey invitations) are built on it, never on
    # a service's own port. Empty means the local gateway in development; production refuses it.
    public_url: str = ""
    # The chain's local time, one zone for every service: calendar days (report days, review
    # dates, "end of the year"), survey months, quiet hours, and the times the console shows.
    business_timezone: TimeZoneName = "Asia/Shanghai"

    log_level: str = "INFO"
    log_json: bool = True

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.business_timezone)

    @property
    def is_development(self) -> bool:
        return self.environment != "production"

    @property
    def database(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{self.service_name}.db').resolve()}"

    @property
    def public_base(self) -> str:
        """The public address without a trailing slash, for appending paths to."""
        return (self.public_url or DEVELOPMENT_PUBLIC_URL).rstrip("/")

    def topic(self, name: str) -> str:
        return f"{self.kafka_topic_prefix}{name}"

    @property
    def consumer_group(self) -> str:
        return f"{self.kafka_topic_prefix}{self.service_name}"

    @property
    def public_key_path(self) -> Path:
        return self.data_dir / "keys" / "jwt-public.pem"

    def resolved_public_key(self) -> str:
        if self.jwt_public_key:
            return self.jwt_public_key
        if self.is_development and self.public_key_path.exists():
            return self.public_key_path.read_text()
        raise RuntimeError(
            "CRM_JWT_PUBLIC_KEY is not set and no development key exists at "
            f"{self.public_key_path}; run `crm token` once to create one"
        )

    def resolved_pepper(self) -> str:
        return self.identity_pepper or "development-only-identity-pepper"

    @model_validator(mode="after")
    def _kafka_credentials_complete(self) -> "ServiceSettings":
        # In every environment: a SASL client without credentials fails only at its first connect,
        # deep in a reconnect loop; say so at start-up instead (and, in production, a placeholder).
        problems = sasl_login_problems("CRM_KAFKA_SASL", self.kafka_security_protocol, self.kafka_sasl_username,
                                       self.kafka_sasl_password, production=self.environment == "production")
        if (self.kafka_ssl_certfile is None) != (self.kafka_ssl_keyfile is None):
            problems.append("CRM_KAFKA_SSL_CERTFILE and CRM_KAFKA_SSL_KEYFILE go together")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _public_url_well_formed(self) -> "ServiceSettings":
        if self.public_url and not PUBLIC_URL.fullmatch(self.public_url):
            raise ValueError(f"CRM_PUBLIC_URL must be an http(s) address such as https://crm.example.cn, not {self.public_url[:100]!r}")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> "ServiceSettings":
        if self.environment != "production":
            return self
        problems = []
        if not self.database_url:
            problems.append("CRM_DATABASE_URL must be set in production")
        if self.jwt_public_key.strip().lower() in PLACEHOLDERS:
            problems.append("CRM_JWT_PUBLIC_KEY must hold the token verification key")
        if self.identity_pepper.strip().lower() in PLACEHOLDERS or len(self.identity_pepper) < 16:
            problems.append("CRM_IDENTITY_PEPPER must be a secret of at least 16 characters")
        if not self.public_url:
            # Links sent to customers would otherwise point at the development gateway.
            problems.append("CRM_PUBLIC_URL must be set in production to the address customers reach the gateway at")
        if self.kafka_security_protocol == "PLAINTEXT":
            problems.append("CRM_KAFKA_SECURITY_PROTOCOL must authenticate (SASL_SSL, SASL_PLAINTEXT or SSL), not PLAINTEXT")
        if problems:
            raise ValueError("; ".join(problems))
        return self

