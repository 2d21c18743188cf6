"""What a registration or a profile edit says about a customer, and the profile rules.

The service layer works with these shapes (a registration's digest is taken of the body as sent),
so they live here and the api names them. Whether a birthday lies in the future, or too far in the
past, depends on the clock, which a model validator cannot see; `birthday_problem` is asked with the
injected one.
"""

from datetime import UTC, date, datetime
from typing import Literal

from pydantic import EmailStr, Field, field_validator

from shared.bodies import Body
from shared.cards import CardNumber
from shared.consents import Consents
from shared.identifiers import StoreId
from shared.phones import Phone
from shared.strict import StrictDate
from shared.text import Text, stripped_not_blank
from shared.zones import Moment

FUTURE_BIRTHDAY = "birthday is in the future"
# Nobody alive is this old (the oldest person on record reached 122): a birthday further back is a
# typo (1800 for 1980) or a placeholder (0001-01-01), and would turn up in ages, birth-month
# segments and birthday notices as if it were a customer's.
OLDEST_AGE_YEARS = 130
BIRTHDAY_RULE = f"YYYY-MM-DD; not after today's date in the chain's timezone, nor more than {OLDEST_AGE_YEARS} years before it"
FUTURE_REGISTRATION = "registered_at is in the future"
# A paper form dated before this is a misread year (1800 for 2018, 0001-01-01 as a placeholder), as
# a sale before it is for the tills: dated so, the customer would be counted in months long gone.
EARLIEST_REGISTRATION = datetime(1970, 1, 1, tzinfo=UTC)
EARLY_REGISTRATION = "registered_at is before 1970: give the day the form was signed"


def earliest_birthday(today: date) -> date:
    """The birthday of a customer `OLDEST_AGE_YEARS` old today (on 29 February, 28 February of a
    common year)."""
    try:
        return today.replace(year=today.year - OLDEST_AGE_YEARS)
    except ValueError:
        return today.replace(year=today.year - OLDEST_AGE_YEARS, day=28)


def birthday_problem(birthday: date | None, today: date) -> str | None:
    """Why a customer's birthday cannot be right, or None. `today` is the chain's business date: a
    customer born today where the stores are is no error."""
    if birthday is None:
        return None
    if birthday > today:
        return FUTURE_BIRTHDAY
    if birthday < (earliest := earliest_birthday(today)):
        return f"birthday is more than {OLDEST_AGE_YEARS} years ago (the earliest taken is {earliest.isoformat()})"
    return None


def registration_problem(registered_at: datetime | None, now: datetime) -> str | None:
    """Why a back-dated registration's time cannot be right, or None."""
    if registered_at is None:
        return None
    if registered_at > now:
        return FUTURE_REGISTRATION
    if registered_at < EARLIEST_REGISTRATION:
        return EARLY_REGISTRATION
    return None


class MemberCreate(Body):
    name: Text = Field(min_length=1, max_length=50)
    phone: Phone = Field(description="Mainland China mobile number, 11 digits")
    email: EmailStr | None = None
    gender: Literal["female", "male", "unspecified"] = "unspecified"
    community: Text = Field(min_length=1, max_length=100, description="Residential community (小区)")
    address: Text = Field(min_length=1, max_length=200)
    channel: Literal["retail", "partner"] = "retail"
    birthday: StrictDate | None = Field(default=None, description=BIRTHDAY_RULE)
    card_no: CardNumber | None = None
    home_store_id: StoreId | None = None
    consents: Consents = Consents()
    registered_at: Moment | None = Field(
        default=None,
        description="When the customer signed up, for the back office importing paper forms (admins only, "
        "`members.member.register_backdated`); not in the future, nor before 1970. Left out: now",
    )

    _strip = field_validator("name", "community", "address")(stripped_not_blank)


class MemberUpdate(Body):
    """A profile edit: only the fields sent change. E-mail and birthday may be cleared with null."""

    name: Text | None = Field(default=None, min_length=1, max_length=50)
    phone: Phone | None = Field(default=None, description="Mainland China mobile number")
    email: EmailStr | None = None
    gender: Literal["female", "male", "unspecified"] | None = None
    birthday: StrictDate | None = Field(default=None, description=BIRTHDAY_RULE)
    community: Text | None = Field(default=None, min_length=1, max_length=100)
    address: Text | None = Field(default=None, min_length=1, max_length=200)
    channel: Literal["retail", "partner"] | None = None
    home_store_id: StoreId | None = None

    @field_validator("name", "phone", "gender", "community", "address", "channel", "home_store_id", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value

    _strip = field_validator("name", "community", "address")(stripped_not_blank)
