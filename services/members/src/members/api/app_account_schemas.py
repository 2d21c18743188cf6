"""Bodies of the routes the gateway calls when a customer signs in to the app or signs up in it."""

from typing import Literal

from pydantic import BaseModel, EmailStr, Field, field_validator

from members.domain.profile import BIRTHDAY_RULE, MemberCreate
from shared.bodies import Body
from shared.consents import Consents
from shared.identifiers import StoreId
from shared.phones import Phone
from shared.strict import StrictDate
from shared.text import Text, stripped_not_blank


class PhoneIn(Body):
    phone: Phone = Field(description="Mainland China mobile number, 11 digits, proved by an SMS code")


class AppAccount(BaseModel):
    member_id: str
    created: bool = Field(description="True when the customer was registered by this request")


class AppSignUp(Body):
    """What a customer gives when signing up in the app: the desk's registration without what only
    staff decide (the membership channel, a physical card handed over)."""

    name: Text = Field(min_length=1, max_length=50)
    phone: Phone = Field(description="Mainland China mobile number, 11 digits, proved by an SMS code")
    email: EmailStr | None = None
    gender: Literal["female", "male", "unspecified"] = "unspecified"
    community: Text = Field(min_length=1, max_length=100, description="Residential community (小区)")
    address: Text = Field(min_length=1, max_length=200)
    birthday: StrictDate | None = Field(default=None, description=BIRTHDAY_RULE)
    home_store_id: StoreId | None = None
    consents: Consents = Consents()

    _strip = field_validator("name", "community", "address")(stripped_not_blank)

    def registration(self) -> MemberCreate:
        return MemberCreate(**self.model_dump(), channel="retail")
