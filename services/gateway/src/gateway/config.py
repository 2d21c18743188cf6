from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from gateway.adapters.passwords import Hashing
from gateway.domain.sessions import MAX_ACCESS_TTL
from shared.auth import MAX_TOKEN_LIFETIME, Role
from shared.settings import PLACEHOLDERS, ServiceSettings, sasl_login_problems

# The longest token the identity endpoint may hand out: the shorter of the lifetimes the services
# accept for the roles it issues (a till's pos token, a service's token).
_LONGEST_ISSUED_S = int(min(MAX_TOKEN_LIFETIME[Role.POS], MAX_TOKEN_LIFETIME[Role.SERVICE]).total_seconds())


class Settings(ServiceSettings):
    service_name: str = "gateway"
    members_url: str = "http://127.0.0.1:8001"
    points_url: str = "http://127.0.0.1:8002"
    campaigns_url: str = "http://127.0.0.1:8003"
    feedback_url: str = "http://127.0.0.1:8004"
    # Budget of each downstream call of an aggregated view: a slow service costs its section,
    # never the whole page. Also of the till's points preview, which a customer waits on.
    downstream_timeout_s: float = 2.0
    # Views fanned out at once by one gateway process; the others wait their turn, at most the queue
    # budget, then get 503. Admitting them all let 32 staff screens push the sections past their
    # deadline on 2 cores (bench/customer360.py on PostgreSQL: 1-5 sections unavailable, p99 1.6-2.0
    # s); 12 at once did the same views a second, all complete, p99 1.1-1.2 s.
    customer360_concurrency: int = Field(default=12, ge=1, le=1000)
    customer360_queue_s: float = Field(default=10.0, gt=0, le=60)
    # How long a store seen open for business is taken for open without reading it again, for a
    # till's sale, the home store of a registration or sign-up and the store of an app complaint
    # (`service_layer/stores.OpenStores`): a store closed on another replica is refused there
    # within this time, on the replica that closed it at once.
    open_store_ttl_s: float = Field(default=10.0, ge=0, le=300)
    # Budget of a forwarded request (registrations, edits, reports, pass-through): a write that
    # is cut short may still commit downstream, so the caller would see 503 for something that
    # happened. Long enough for a busy SQLite writer; reads of the 360 view keep the short budget.
    forward_timeout_s: float = 30.0
    # Budget of the till's coupon calls (validate, reserve, release): a customer is waiting at the
    # checkout, and reserve and release are keyed by the till's transaction, so the till can simply
    # retry or go on without the coupon rather than hang for the long forwarding budget.
    pos_coupon_timeout_s: float = 5.0
    # Phones a till may name in points previews within the window (each answer tells whether the
    # phone is a member's; per replica, as the other throttles): 429 beyond.
    till_phone_lookups: int = Field(default=120, ge=1)
    till_phone_lookup_window_s: float = Field(default=3600.0, gt=0)

    # Identity: tills and the platform's services exchange a client credential for a short-lived
    # token at POST /identity/v1/token. Off, the gateway neither issues tokens nor needs the
    # private key (another issuer, or `crm token`, mints them).
    identity_enabled: bool = True
    # argon2id's work for each staff password: RFC 9106's low-memory profile. "test-minimal" is
    # for the test suite alone (its thousands of throwaway accounts each cost a hash and a
    # login); any other environment refuses it.
    password_hashing: Hashing = "rfc9106-low-memory"
    # PEM text of the Ed25519 signing key, or a file holding it (a mounted secret). In development
    # it falls back to the key `crm run` / `crm token` keep in the data directory.
    jwt_private_key: SecretStr = SecretStr("")
    jwt_private_key_file: Path | None = None
    # Lifetime of an issued token: short, because a revoked client keeps a token it already has
    # until it expires (see the README, Revocation).
    identity_token_ttl_s: int = Field(default=900, ge=60, le=_LONGEST_ISSUED_S)
    # How often each replica reloads the revoked tills whose tokens it refuses (a revocation made
    # through a replica takes effect there at once, at the others within this).
    identity_revocation_refresh_s: float = Field(default=30.0, gt=0)
    # Failed exchanges tolerated within the window per caller address before the exchange answers
    # 429: secrets are 256-bit, so this bounds load and noise, not guessing (none per client id:
    # see service_layer/identity.exchange).
    identity_failure_window_s: float = Field(default=300.0, gt=0)
    identity_max_failures_per_address: int = Field(default=50, ge=1)
    # Staff sessions (POST /identity/v1/login): the access token's lifetime is also the longest a
    # logout, a deactivation or a detected refresh-token theft takes to reach every service, which
    # check nothing but the token: hence at most a minute (see the README, Staff sessions).
    staff_access_token_ttl_s: int = Field(default=60, ge=10, le=int(MAX_ACCESS_TTL.total_seconds()))
    # How long one login's refresh tokens last, however often they are swapped: a shift.
    staff_session_ttl_s: int = Field(default=12 * 3600, ge=300, le=30 * 24 * 3600)
    # How long a login may be left unused before it ends (a refresh token not swapped within it is
    # refused; see gateway.domain.sessions): a tablet left on the service desk logs itself out.
    # At least 5 minutes, well beyond the access token's minute and the refresh retry grace (a
    # session used every few minutes must not end); at most a day. Above staff_session_ttl_s, the
    # session's own end comes first.
    staff_idle_timeout_s: int = Field(default=30 * 60, ge=300, le=24 * 3600)
    # Ended staff sessions (and their refresh tokens) are deleted this long after they end, by the
    # `staff-sessions-cleanup` job running this often.
    staff_session_retention_s: int = Field(default=7 * 24 * 3600, ge=0)
    staff_session_cleanup_every_s: float = Field(default=3600.0, gt=0)
    # Failed logins tolerated within the window per login name and per caller address before 429:
    # passwords are guessable, so these are what bounds guessing (per replica, see the README).
    staff_login_failure_window_s: float = Field(default=900.0, gt=0)
    staff_max_failures_per_login: int = Field(default=5, ge=1)
    staff_max_failures_per_address: int = Field(default=30, ge=1)

    # Members' sign-in by SMS code (POST /identity/v1/members/...): the member token's lifetime
    # (short: the gateway alone refuses an erased member's token at once), the refresh token's
    # (how long the app stays signed in without a new code), and the throttles, counted within one
    # window: codes asked per phone (each is an SMS to someone's phone) and per caller address,
    # wrong codes per caller address (one phone's guesses are bounded by its code's 5 tries).
    member_token_ttl_s: int = Field(default=3600, ge=300, le=int(MAX_TOKEN_LIFETIME[Role.MEMBER].total_seconds()))
    member_refresh_token_ttl_s: int = Field(default=30 * 86400, ge=3600, le=365 * 86400)
    # How long after a refresh token's use the same token is taken as the app's retry of an answer
    # it lost, not as a copy in another's hands (gateway.domain.member_refresh).
    member_refresh_retry_grace_s: float = Field(default=60.0, ge=0, le=600)
    member_sign_in_window_s: float = Field(default=3600.0, gt=0)
    member_codes_per_phone: int = Field(default=5, ge=1)
    member_codes_per_address: int = Field(default=30, ge=1)
    member_wrong_codes_per_address: int = Field(default=30, ge=1)
    # The language of the code's SMS; empty: the sender's default (CRM_MESSAGE_LANGUAGE of campaigns).
    member_code_language: Literal["", "zh-CN", "en"] = ""

    # The console's dead-letter replays: records sent per second, and per request (a replay with
    # more stays interrupted and is resumed from the page), and the most dead letters read at once.
    console_replay_per_s: float = Field(default=20.0, gt=0, le=1000)
    console_replay_batch: int = Field(default=500, ge=1, le=10_000)
    console_dead_letters_read: int = Field(default=5000, ge=10, le=100_000)
    # The event flow: how often its figures are sampled for the 24-hour history, and how many
    # records behind a partition are counted at most (by fetching them) before saying "at least".
    console_event_flow_sample_s: float = Field(default=300.0, gt=0)
    console_lag_fetch_cap: int = Field(default=5000, ge=1, le=1_000_000)
    # The Kafka login of the console's operator actions (the event flow's offsets and lag, reading
    # and replaying dead letters): they read every topic and every group's offsets and write onto
    # other services' topics, rights the gateway's own user must not hold where the broker enforces
    # one writer per topic (deploy/k8s). Unset, they use the gateway's own login, which is enough
    # on a broker without ACLs (`crm run`). `adapters.operator_kafka` is the one place that picks.
    operator_kafka_sasl_username: str = ""
    operator_kafka_sasl_password: SecretStr = SecretStr("")

    @property
    def private_key_path(self) -> Path:
        return self.data_dir / "keys" / "jwt-private.pem"

    def resolved_private_key(self) -> str | None:
        """The signing key, or None when none is configured (only possible outside production)."""
        if self.jwt_private_key.get_secret_value().strip():
            return self.jwt_private_key.get_secret_value()
        if self.jwt_private_key_file is not None:
            return self.jwt_private_key_file.read_text()
        if self.is_development and self.private_key_path.exists():
            return self.private_key_path.read_text()
        return None

    @model_validator(mode="after")
    def _operator_kafka_login_complete(self) -> "Settings":
        if not (self.operator_kafka_sasl_username or self.operator_kafka_sasl_password.get_secret_value()):
            return self
        if not self.kafka_security_protocol.startswith("SASL_"):
            # The login would be silently ignored and the console would run as the gateway.
            raise ValueError(f"CRM_OPERATOR_KAFKA_SASL_USERNAME and _PASSWORD need a SASL CRM_KAFKA_SECURITY_PROTOCOL, "
                             f"not {self.kafka_security_protocol}")
        problems = sasl_login_problems("CRM_OPERATOR_KAFKA_SASL", self.kafka_security_protocol, self.operator_kafka_sasl_username,
                                       self.operator_kafka_sasl_password, production=self.environment == "production")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _real_password_hashing(self) -> "Settings":
        if self.password_hashing == "test-minimal" and self.environment != "test":
            raise ValueError(f"CRM_PASSWORD_HASHING=test-minimal is for the test suite only, not CRM_ENVIRONMENT={self.environment}")
        return self

    @model_validator(mode="after")
    def _production_identity_has_its_key(self) -> "Settings":
        # Only where the gateway issues tokens: with identity off it never signs anything.
        if self.environment != "production" or not self.identity_enabled:
            return self
        key = self.jwt_private_key.get_secret_value().strip()
        if self.jwt_private_key_file is not None:
            if not self.jwt_private_key_file.is_file():
                raise ValueError(f"CRM_JWT_PRIVATE_KEY_FILE {self.jwt_private_key_file} is not a readable file")
        elif key.lower() in PLACEHOLDERS:
            raise ValueError(
                "CRM_JWT_PRIVATE_KEY or CRM_JWT_PRIVATE_KEY_FILE must hold the token signing key "
                "while CRM_IDENTITY_ENABLED is true"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
