"""Bodies of the routes the platform's message sender calls (api/routes/sender.py)."""

from typing import Literal

from pydantic import BaseModel, Field

from shared.bodies import Body
from shared.phones import Phone
from shared.text import Text
from shared.zones import Moment


class ContactPublic(BaseModel):
    member_id: str
    phone: str | None = Field(description="In clear; null once the member is erased")
    email: str | None
    family_name: str | None = Field(description="What a salutation calls the member (张, 欧阳, Smith); null once erased")
    gender: Literal["female", "male", "unspecified"]


class SmsReply(Body):
    phone: Phone = Field(description="The number the reply came from: mainland mobile, 11 digits")
    text: Text = Field(min_length=1, max_length=500, description="What the customer wrote")
    received_at: Moment = Field(description="When the provider received the reply")


class SmsReplyResult(BaseModel):
    found: bool = Field(description="The phone is a member's")
    member_id: str | None
    opt_out: bool = Field(description="The text withdraws marketing SMS (T, TD, R, 退订)")
    changed: bool = Field(description="A withdrawal was recorded now; false when none was in force")
