"""Bodies of the staff account and staff session APIs."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from gateway.domain.staff import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS
from shared.bodies import Body
from shared.identifiers import StoreId
from shared.text import NonBlankText, Text

StaffRole = Literal["service_desk", "account_manager", "store_manager", "marketing", "admin", "operator"]

_PASSWORD = f"{MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"


class StaffIn(Body):
    # A misspelt field (`stor_id`) would be dropped and the admin believe it was set: refused (Body).
    login: Text = Field(min_length=2, max_length=64, description="what the person types to log in; stored in lowercase")
    name: NonBlankText = Field(max_length=100)
    role: StaffRole
    store_id: StoreId | None = Field(default=None, description="required for service_desk and store_manager")
    account_manager_id: Text | None = Field(
        default=None, min_length=1, max_length=64,
        description="the person's id in members' staff directory; required for account_manager, and the subject "
        "of their tokens wherever set",
    )
    password: Text | None = Field(
        default=None, max_length=MAX_PASSWORD_CHARS,
        description=f"the first password ({_PASSWORD}); left out, one is generated and answered once",
    )


class StaffUpdate(Body):
    """Only the fields sent change; `store_id` or `account_manager_id` sent as null clear them."""

    name: NonBlankText | None = Field(default=None, max_length=100)
    role: StaffRole | None = None
    store_id: StoreId | None = None
    account_manager_id: Text | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("name", "role", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Sent as null, they would change nothing while the answer says 200: every account has both.
        if value is None:
            raise ValueError("cannot be cleared: leave it out to keep it")
        return value


class StaffPublic(BaseModel):
    staff_id: str
    login: str
    name: str
    role: str
    store_id: str | None
    account_manager_id: str | None
    totp_enabled: bool = Field(description="whether logging in also needs a one-time code")
    created_at: datetime
    changed_at: datetime
    deactivated_at: datetime | None


class StaffWithPassword(StaffPublic):
    password: str | None = Field(description="the generated password, shown this once; null when the admin set one")


class PasswordIn(Body):
    password: Text | None = Field(
        default=None, max_length=MAX_PASSWORD_CHARS, description=f"{_PASSWORD}; left out, one is generated",
    )


class PasswordOut(BaseModel):
    password: str | None = Field(description="the generated password, shown this once; null when one was given")


class SecondFactorOut(BaseModel):
    otpauth_uri: str = Field(description="for the authenticator app (as a QR code); shown this once")


class StaffAuditEntry(BaseModel):
    at: datetime
    actor: str
    actor_role: str
    action: str
    staff_id: str
    detail: str


class LoginIn(Body):
    login: Text = Field(min_length=1, max_length=200)
    # Longer than any valid password, so that an overlong one is a wrong password (401), not a hint.
    password: str = Field(min_length=1, max_length=1024)
    totp_code: Text | None = Field(default=None, max_length=10, description="6 digits, for accounts with a second factor")


class PasswordChangeIn(LoginIn):
    """A staff member's own new password: proven by the login and the current password (and code)."""

    new_password: str = Field(min_length=1, max_length=1024, description=_PASSWORD)


class RefreshIn(Body):
    refresh_token: str = Field(min_length=1, max_length=200)


class SessionOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int = Field(description="seconds the access token is valid for (at most 60)")
    refresh_token: str = Field(description="swap it at POST /identity/v1/refresh before the access token runs out")
    refresh_expires_in: int = Field(description="seconds the refresh token may wait unused: the idle timeout "
                                    "(CRM_STAFF_IDLE_TIMEOUT_S), less when the session ends sooner; then a new login is needed")
    staff_id: str
    role: str
    store_id: str | None
