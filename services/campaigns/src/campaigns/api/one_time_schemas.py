"""Bodies of the one-time message route (a platform service's message to a phone number)."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.bodies import Body
from shared.phones import Phone
from shared.text import Text

ParamName = Annotated[Text, StringConstraints(min_length=1, max_length=32)]
ParamValue = Annotated[Text, StringConstraints(max_length=64)]


class OneTimeMessageIn(Body):
    phone: Phone = Field(description="Mainland China mobile number, 11 digits: where the message goes")
    template: Literal["signin_code"]
    params: dict[ParamName, ParamValue] = Field(default_factory=dict, max_length=10,
                                     description="The template's parameters, e.g. {code, minutes}")
    language: Literal["zh-CN", "en"] | None = Field(default=None, description="The service's default language if left out")


class OneTimeMessagePublic(BaseModel):
    """What was recorded: the number only masked, never the text (it holds the code)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    channel: str
    template: str
    recipient: str
    status: str
    sent_at: datetime | None
