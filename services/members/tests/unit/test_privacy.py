"""Privacy rules that need no database: masking, what a read reveals, erasure placeholders, edits."""

import re
from datetime import UTC, date, datetime

import pytest
from pydantic import TypeAdapter, ValidationError

from members.adapters.tables import MemberRow
from members.api.presenters import clear_fields, member_public
from members.api.schemas import Consents, ConsentsInForce, MemberUpdate
from members.domain.privacy import erased_address_key, erased_card_no, mask_address, mask_email, mask_phone
from members.domain.profile import FUTURE_BIRTHDAY, birthday_problem, earliest_birthday
from shared.auth import Principal, Role
from shared.cards import CardNumber
from shared.events.contracts import CustomerRef
from shared.policy import Grant


def reading(**claims) -> Grant:
    return Grant.of(Principal(**claims), "members.member.read")


def member(**overrides) -> MemberRow:
    values = dict(
        id="m-1", card_no="8800000012345", name="李娜", phone="13912345678", phone_hmac="h", email="lina@example.com",
        community="阳光花园", address="阳光花园3栋2单元501", channel="retail", created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    values.update(overrides)
    return MemberRow(**values)


def test_email_mask_keeps_the_first_letter_and_the_domain() -> None:
    assert mask_email("lina@example.com") == "l***@example.com"
    assert mask_email("broken") == "***"
    assert mask_email(None) is None


def test_erased_fields_mask_to_nothing_rather_than_to_asterisks() -> None:
    assert mask_phone(None) is None
    assert mask_address("") == ""


@pytest.mark.parametrize("role", [Role.SERVICE_DESK, Role.ACCOUNT_MANAGER, Role.STORE_MANAGER, Role.ADMIN])
def test_roles_that_contact_customers_read_contact_details_in_clear_and_that_read_is_reported(role) -> None:
    row = member()
    reader = reading(subject="s-1", role=role)
    body = member_public(row, reader, ConsentsInForce())
    assert (body.phone, body.email, body.address) == ("13912345678", "lina@example.com", "阳光花园3栋2单元501")
    assert clear_fields(row, reader) == ["phone", "address", "email"]


def test_marketing_gets_masked_contact_details_and_no_read_is_reported() -> None:
    row = member()
    marketing = reading(subject="mk-1", role=Role.MARKETING)
    body = member_public(row, marketing, ConsentsInForce())
    assert (body.phone, body.email, body.address) == ("139****5678", "l***@example.com", "阳光花园****")
    assert body.phone_masked and clear_fields(row, marketing) == []


def test_a_member_reads_their_own_details_in_clear_but_not_another_members() -> None:
    row = member()
    assert clear_fields(row, reading(subject="app-1", role=Role.MEMBER, member_id="m-1")) == ["phone", "address", "email"]
    other = member_public(row, reading(subject="app-2", role=Role.MEMBER, member_id="m-2"), ConsentsInForce())
    assert other.phone == "139****5678"


def test_a_read_reports_only_the_fields_that_hold_something() -> None:
    reader = reading(subject="s-1", role=Role.SERVICE_DESK)
    assert clear_fields(member(email=None), reader) == ["phone", "address"]
    assert clear_fields(member(phone=None, email=None, address=""), reader) == []


def test_erased_card_placeholder_is_unique_fits_the_column_and_can_never_match_a_real_card() -> None:
    placeholders = {erased_card_no(f"member-{n}") for n in range(500)}
    assert len(placeholders) == 500
    for placeholder in placeholders:
        assert len(placeholder) <= 32
        with pytest.raises(ValidationError):  # the registration and POS rule
            TypeAdapter(CardNumber).validate_python(placeholder)
        with pytest.raises(ValidationError):
            CustomerRef(card_no=placeholder)
    assert erased_card_no("member-1") == erased_card_no("member-1")


def test_an_emptied_household_gets_an_address_key_that_names_no_address() -> None:
    assert erased_address_key("h-1") == "erased:h-1"


def test_registration_records_only_the_consents_the_customer_answered() -> None:
    assert Consents().by_purpose() == {}
    assert Consents(sms=True, service_tips_sms=False).by_purpose() == {"marketing_sms": True, "service_tips_sms": False}
    assert Consents(email=True).by_purpose() == {"marketing_email": True}


@pytest.mark.parametrize("field", ["name", "phone", "community", "address", "channel", "gender"])
def test_a_profile_edit_cannot_null_a_required_field(field) -> None:
    with pytest.raises(ValidationError) as err:
        MemberUpdate.model_validate({field: None})
    [error] = err.value.errors()
    assert error["loc"] == (field,) and "may not be null" in error["msg"]


def test_a_profile_edit_may_clear_email_and_birthday_and_changes_only_what_was_sent() -> None:
    edit = MemberUpdate.model_validate({"email": None, "birthday": None, "name": " 李娜 "})
    assert edit.model_dump(exclude_unset=True) == {"email": None, "birthday": None, "name": "李娜"}


def test_a_profile_edit_refuses_a_bad_phone() -> None:
    with pytest.raises(ValidationError, match="pattern"):
        MemberUpdate.model_validate({"phone": "12345"})


def test_a_birthday_after_the_business_date_is_in_the_future() -> None:
    # Judged against the clock the service is given (the route asks with it), not the machine's date.
    today = date(2026, 11, 23)
    assert birthday_problem(date(2999, 1, 1), today) == FUTURE_BIRTHDAY
    assert birthday_problem(date(2026, 11, 24), today) == FUTURE_BIRTHDAY
    assert birthday_problem(date(2026, 11, 23), today) is None  # born today
    assert birthday_problem(date(1980, 5, 1), today) is None
    assert birthday_problem(None, today) is None


@pytest.mark.parametrize(("today", "oldest"), [
    (date(2026, 11, 23), date(1896, 11, 23)),
    # 130 years before a leap year is never one (130 is not a multiple of 4): 28 February then.
    (date(2028, 2, 29), date(1898, 2, 28)),
])
def test_a_birthday_more_than_130_years_back_is_refused(today: date, oldest: date) -> None:
    """Nobody alive is that old: 1800 for 1980 is a typo, 0001-01-01 a placeholder."""
    assert earliest_birthday(today) == oldest
    assert birthday_problem(oldest, today) is None
    for too_old in (date.fromordinal(oldest.toordinal() - 1), date(1800, 1, 1), date(1, 1, 1)):
        assert birthday_problem(too_old, today) == (
            f"birthday is more than 130 years ago (the earliest taken is {oldest.isoformat()})"
        )


@pytest.mark.parametrize("address", ["翠苑三栋2单元501", "12幢302室", "解放路8号3-501", "ＡＢ１２栋", "中山花园#5"])
def test_masked_addresses_reveal_no_building_or_room_number(address) -> None:
    masked = mask_address(address)
    assert masked.endswith("****")
    assert not re.search(r"[0-9０-９零一二三四五六七八九十百栋幢号室#]", masked.removesuffix("****")), masked
