from decimal import Decimal
from email.utils import parseaddr
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "campaigns"

    # --- coupons
    # How long a till's reservation holds its coupons; then the release job gives them back.
    coupon_reservation_ttl_s: int = Field(default=900, ge=30, le=86_400)
    coupon_release_every_s: float = 60.0
    # Reservations released per run of the job (each run takes the oldest first).
    coupon_release_batch: int = Field(default=1_000, ge=1)
    # Largest member list one issue request may carry (a launch issues more, a page at a time).
    coupon_issue_max_members: int = Field(default=10_000, ge=1)
    # How long a complaint's compensation coupon made for the purpose (no compensation campaign of
    # its value ran) is valid from its issue (service_layer/compensation.py).
    compensation_coupon_valid_days: int = Field(default=30, ge=1, le=3660)
    # --- end of coupons
    # How often scheduled campaigns are started and ended campaigns closed.
    campaign_schedule_every_s: float = 60.0

    # --- messages: the sender (service_layer/messages.py)
    # Quiet hours [start, end) in local hours: a message due then waits until `end`, never dropped.
    message_quiet_start_hour: int = Field(default=21, ge=0, le=23)
    message_quiet_end_hour: int = Field(default=8, ge=0, le=23)
    # Marketing messages one member may get in any 7 days; the next ones are cancelled with a reason.
    message_weekly_cap: int = Field(default=2, ge=0, le=100)
    # The chain's sign name, which Chinese carriers require at the start of every SMS.
    sms_sign: str = Field(default="【邻里生活超市】", min_length=3, max_length=20, pattern=r"^【[^【】]+】$")
    # Language of messages when nothing says otherwise (templates exist in zh-CN and en).
    message_language: Literal["zh-CN", "en"] = "zh-CN"
    # How messages leave: `local` records them in the local outbox table (GET /v1/outbox);
    # `provider` sends SMS through Alibaba Cloud SMS and e-mail through SMTP. A channel's own
    # setting, when set, overrides it for that channel (adapters/transports.py).
    message_transport: Literal["local", "provider"] = "local"
    message_sms_transport: Literal["local", "aliyun"] | None = None
    message_email_transport: Literal["local", "smtp"] | None = None
    message_dispatch_every_s: float = 10.0
    # Messages handed to the transport per transaction of the dispatch job.
    message_dispatch_batch: int = Field(default=500, ge=1, le=10_000)
    # Attempts before a message is `failed`; the wait after the n-th failure is base * 2^(n-1), capped.
    message_max_attempts: int = Field(default=5, ge=1, le=50)
    message_retry_base_s: float = Field(default=60.0, gt=0)
    message_retry_max_s: float = Field(default=3_600.0, gt=0)
    # Members, for contacts at sending time and SMS replies (with the service's own token).
    members_url: str = "http://127.0.0.1:8001"
    members_timeout_s: float = Field(default=5.0, gt=0, le=60)
    # SMTP (adapters/smtp.py): security `starttls` (port 587), `tls` (implicit, port 465) or `none`.
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65_535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout_s: float = Field(default=30.0, gt=0, le=300)
    # The From of every e-mail, e.g. `邻里生活超市 <members@example.com>`; required for SMTP.
    email_from: str = ""
    # The subject of an e-mail whose template has no subject file.
    email_default_subject: str = Field(default="邻里生活超市会员通知", min_length=1, max_length=200)
    # Where marketing mail's List-Unsubscribe points (a mailto: or https: address); empty: a mail
    # to the From address with the subject "unsubscribe".
    email_list_unsubscribe: str = ""
    # Alibaba Cloud SMS (adapters/aliyun_sms.py); the sign name is CRM_SMS_SIGN without 【】.
    aliyun_sms_endpoint: str = "https://dysmsapi.aliyuncs.com"
    aliyun_access_key_id: str = ""
    aliyun_access_key_secret: SecretStr = SecretStr("")
    aliyun_region: str = "cn-hangzhou"
    # Our template name -> the provider's approved template code, e.g. {"vip_welcome": "SMS_1234"}.
    aliyun_sms_templates: dict[str, str] = Field(default_factory=dict)
    aliyun_sms_timeout_s: float = Field(default=10.0, gt=0, le=60)
    # The shared secret the provider's pushes (delivery reports, replies) carry as `?token=`; empty:
    # the callbacks refuse everything.
    aliyun_callback_token: SecretStr = SecretStr("")
    # --- end of messages

    # --- offers: the personal offer lists (service_layer/offer_lists.py)
    # A round of lists every this many days (periods counted from 1970-01-01 UTC); the job checks hourly.
    offer_list_period_days: int = Field(default=14, ge=1, le=90)
    offer_list_every_s: float = 3_600.0
    # Offers on one member's list at most.
    offer_list_size: int = Field(default=8, ge=1, le=50)
    # Below this predicted chance of buying in the horizon an item is not "predicted".
    offer_min_score: float = Field(default=0.05, ge=0, le=1)
    # Members held out of each round (they get no list), so uplift is measured like any campaign's.
    offer_control_share: Decimal = Field(default=Decimal("0.1"), ge=0, le=Decimal("0.5"))
    # History the prediction reads, and how many members' histories it learns items from.
    offer_history_days: int = Field(default=365, ge=28, le=1_100)
    offer_sample_members: int = Field(default=5_000, ge=100)
    # Members per transaction while building.
    offer_build_chunk: int = Field(default=2_000, ge=10, le=20_000)
    # --- end of offers

    # --- calling other services as campaigns itself (role `service`): the client credential the
    # gateway's identity endpoint exchanges for a token (shared.service_token). Empty: not enrolled.
    identity_url: str = ""
    service_client_id: str = ""
    service_client_secret: SecretStr = SecretStr("")
    # --- end of calling other services

    @property
    def sms_transport(self) -> Literal["local", "aliyun"]:
        return self.message_sms_transport or ("aliyun" if self.message_transport == "provider" else "local")

    @property
    def email_transport(self) -> Literal["local", "smtp"]:
        return self.message_email_transport or ("smtp" if self.message_transport == "provider" else "local")

    @property
    def list_unsubscribe(self) -> str:
        if self.email_list_unsubscribe:
            return f"<{self.email_list_unsubscribe}>"
        return f"<mailto:{parseaddr(self.email_from)[1]}?subject=unsubscribe>"

    @model_validator(mode="after")
    def _providers_configured(self) -> "Settings":
        """A provider chosen without what it needs fails at start-up, naming the setting."""
        if self.email_transport == "smtp" and not parseaddr(self.email_from)[1]:
            raise ValueError("email_from: an SMTP transport needs the From address (CRM_EMAIL_FROM)")
        if self.sms_transport == "aliyun":
            if not self.aliyun_access_key_id or not self.aliyun_access_key_secret.get_secret_value():
                raise ValueError("aliyun_access_key_id: the Aliyun SMS transport needs CRM_ALIYUN_ACCESS_KEY_ID "
                                 "and CRM_ALIYUN_ACCESS_KEY_SECRET")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
