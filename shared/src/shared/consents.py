"""The consents a customer answers when they sign up: one type for every way in (a desk's
registration at members, the app's sign-up through the gateway), so that a spelling one takes the
other takes too, and an answer under a name neither knows is refused rather than dropped (a
customer's "no" lost)."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.strict import StrictBool

# Registration names the marketing consents by channel; the profile, the app and the policy by
# purpose. Either spelling is taken at registration.
_BY_PURPOSE = {"marketing_sms": "sms", "marketing_email": "email"}


class Consents(BaseModel):
    """Consents given at registration, each answered or left unanswered. Unknown names are
    refused: `{"marketing_sms": true}` was accepted and dropped, a consent given and never recorded."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _purpose_names(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for purpose, channel in _BY_PURPOSE.items():
            if purpose in data:
                if channel in data:
                    raise ValueError(f"{purpose} and {channel} are the same consent; give it once")
                data[channel] = data.pop(purpose)
        return data

    # JSON true / false only: a consent recorded from "yes" or 1 would be one the customer never gave.
    sms: StrictBool | None = Field(default=None, description="Marketing messages by SMS (营销短信): marketing_sms")
    email: StrictBool | None = Field(default=None, description="Marketing messages by e-mail: marketing_email")
    service_tips_sms: StrictBool | None = Field(default=None, description="Service tips by SMS (服务提示短信)")

    def by_purpose(self) -> dict[str, bool]:
        """Only what the customer actually answered is recorded; silence is not a refusal."""
        answers = {"marketing_sms": self.sms, "marketing_email": self.email, "service_tips_sms": self.service_tips_sms}
        return {purpose: granted for purpose, granted in answers.items() if granted is not None}
