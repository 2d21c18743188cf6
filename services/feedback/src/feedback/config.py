from decimal import Decimal
from functools import lru_cache

from pydantic import Field, model_validator

from shared.integers import POINTS_MAX
from shared.settings import PLACEHOLDERS, ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "feedback"

    # Hours from filing (or reopening, for resolution) before a complaint is overdue, per severity.
    # Set as JSON, e.g. CRM_ACK_HOURS='{"high": 2, "medium": 24, "low": 48}'.
    ack_hours: dict[str, float] = Field(default_factory=lambda: {"high": 4.0, "medium": 24.0, "low": 48.0})
    resolve_hours: dict[str, float] = Field(default_factory=lambda: {"high": 24.0, "medium": 72.0, "low": 168.0})
    escalation_every_s: float = 300.0

    # Share of members' sales that get a satisfaction survey invitation (0.05 = 5%).
    survey_sample_rate: float = Field(default=0.05, ge=0, le=1)
    survey_ttl_days: int = Field(default=14, ge=1)
    # Key of the HMAC that turns an invitation's random nonce into its link token; the database
    # keeps only the nonce and the token's hash, so a copy of the database cannot answer surveys.
    survey_token_key: str = ""

    compensation_points_max: int = Field(default=10_000, ge=0, le=POINTS_MAX)
    compensation_coupon_max: Decimal = Field(default=Decimal("500.00"), ge=0)


    def resolved_survey_token_key(self) -> str:
        return self.survey_token_key or "development-only-survey-token-key"

    @model_validator(mode="after")
    def _check_feedback_settings(self) -> "Settings":
        for name in ("ack_hours", "resolve_hours"):
            hours = getattr(self, name)
            missing = {"low", "medium", "high"} - hours.keys()
            if missing:
                raise ValueError(f"{name} needs hours for every severity; missing {sorted(missing)}")
            if any(h <= 0 for h in hours.values()):
                raise ValueError(f"{name} must be positive hours")
        if self.environment == "production" and (
            self.survey_token_key.strip().lower() in PLACEHOLDERS or len(self.survey_token_key) < 16
        ):
            raise ValueError("CRM_SURVEY_TOKEN_KEY must be a secret of at least 16 characters")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
