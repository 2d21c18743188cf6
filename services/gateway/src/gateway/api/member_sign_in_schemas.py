"""Bodies of members' sign-in and sign-up by SMS code (POST /identity/v1/members/...)."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from shared.bodies import Body
from shared.consents import Consents
from shared.identifiers import StoreId
from shared.phones import Phone
from shared.strict import StrictDate
from shared.text import Text

Code = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


class CodeRequest(Body):
    phone: Phone = Field(description="Mainland China mobile number, 11 digits", examples=["13800138000"])


class CodeRequested(BaseModel):
    """The same answer whether or not the phone is a member's."""

    detail: str = "a code is on its way to this phone by SMS"
    expires_in: int = Field(description="seconds the code is valid for")


class SignInRequest(Body):
    phone: Phone = Field(description="The number the code was sent to", examples=["13800138000"])
    code: Code = Field(description="The 6 digits of the SMS", examples=["042917"])


class SignUpRequest(Body):
    """Registration from the app: the phone is proved by the code; members checks the rest as it
    does a desk registration (and answers 422 naming the field). Unknown fields are refused."""

    phone: Phone = Field(description="The number the code was sent to", examples=["13800138000"])
    code: Code = Field(description="The 6 digits of the SMS", examples=["042917"])
    name: Text = Field(min_length=1, max_length=50)
    email: Text | None = Field(default=None, max_length=254)
    gender: Literal["female", "male", "unspecified"] = "unspecified"
    community: Text = Field(min_length=1, max_length=100, description="Residential community (小区)")
    address: Text = Field(min_length=1, max_length=200)
    birthday: StrictDate | None = None
    home_store_id: StoreId | None = None
    # One type with the desk's registration at members (shared.consents): the same spellings taken.
    consents: Consents = Consents()

    def registration(self) -> dict[str, object]:
        """What members is sent: everything but the code."""
        return self.model_dump(mode="json", exclude={"code"}, exclude_none=True)


class RefreshRequest(Body):
    refresh_token: str = Field(min_length=1, max_length=200)


class MemberTokenOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int = Field(description="seconds the token is valid for; then trade the refresh token for a new one")
    refresh_token: str = Field(description="works once, at POST /identity/v1/members/refresh; keep it secret")
    refresh_expires_in: int = Field(description="seconds the refresh token is valid for; then sign in with a new code")
    member_id: str
