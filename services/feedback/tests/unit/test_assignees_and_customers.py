"""Which assignees a complaint may be handed to, and which customers feedback records anything about."""

import uuid
from datetime import UTC, datetime

import pytest

from feedback.domain.assignment import check_reassignment, parse_assignee
from feedback.domain.customers import MemberErased, check_complaint_member, check_named_member
from shared.errors import Invalid


@pytest.mark.parametrize(("text", "store", "staff"), [
    ("desk:S001", "S001", None), ("store_manager:S-02_b", "S-02_b", None), ("am-wang", None, "am-wang"),
    ("wang.li@S001", None, "wang.li@S001"),
])
def test_an_assignee_is_a_stores_queue_or_a_staff_id(text: str, store: str | None, staff: str | None) -> None:
    parsed = parse_assignee(text)
    assert (parsed.store_id, parsed.staff_id) == (store, staff)


@pytest.mark.parametrize("text", ["queue:S001", "desk:", "desk:S 001", "store_manager:S001:x", "am wang", "x" * 65,
                                  "desk:" + "S" * 33])
def test_any_other_form_is_refused_saying_which_forms_there_are(text: str) -> None:
    with pytest.raises(ValueError, match="desk:<store_id>"):
        parse_assignee(text)


def test_a_store_queue_must_be_the_complaints_own_store() -> None:
    check_reassignment(parse_assignee("store_manager:S001"), "S001", known_account_manager=False)
    for other in ("desk:S002", "store_manager:S002"):
        with pytest.raises(Invalid, match="desk:S001 or store_manager:S001") as refused:
            check_reassignment(parse_assignee(other), "S001", known_account_manager=False)
        assert refused.value.field == "assignee"


def test_a_person_must_be_an_account_manager_feedback_knows() -> None:
    check_reassignment(parse_assignee("am-wang"), "S001", known_account_manager=True)
    with pytest.raises(Invalid, match="no account manager nobody-at-all") as refused:
        check_reassignment(parse_assignee("nobody-at-all"), "S001", known_account_manager=False)
    assert refused.value.field == "assignee"


def test_an_erased_member_is_refused_whatever_else_is_known() -> None:
    erased = datetime(2026, 11, 23, tzinfo=UTC)
    for member_id, known in (("m-1", True), (str(uuid.uuid4()), True)):
        with pytest.raises(MemberErased, match="member is erased"):
            check_named_member(member_id, known=known, erased_at=erased)


def test_an_unknown_member_is_refused_only_when_no_member_could_have_that_id() -> None:
    check_named_member("m-1", known=True, erased_at=None)  # known from members' events, whatever its form
    check_named_member(str(uuid.uuid4()), known=False, erased_at=None)  # a registration on its way
    for impossible in ("nonexistent", str(uuid.uuid4()).upper(), str(uuid.uuid4())[:-1]):
        with pytest.raises(Invalid, match="no member") as refused:
            check_named_member(impossible, known=False, erased_at=None)
        assert refused.value.field == "member_id"


def test_nothing_more_is_recorded_under_an_erased_members_complaint() -> None:
    """Reopening one, or filing a comment book entry under it, is refused on the complaint."""
    with pytest.raises(MemberErased) as refused:
        check_complaint_member("m-1", erased_at=datetime(2026, 11, 23, tzinfo=UTC))
    assert str(refused.value) == "complaint_id: member is erased; nothing more is recorded about them"
    check_complaint_member("m-1", erased_at=None)  # a member not erased
    check_complaint_member(None, erased_at=None)  # an anonymous complaint names nobody
