"""What an audit entry of a staff account or an identity client records reads back as the facts it
was written with; an entry in another form is not guessed at."""

import pytest

from gateway.domain import audit_details as details
from gateway.domain.audit_details import Fact

pytestmark = pytest.mark.unit


def test_an_added_account_gives_back_each_of_its_fields() -> None:
    written = details.account("li.na", "李 娜", "service_desk", "S001", None)

    assert details.facts("created", written) == [
        Fact("login", "li.na"), Fact("name", "李 娜"), Fact("role", "service_desk"), Fact("store", "S001")]


def test_a_change_gives_back_only_what_changed_with_what_it_was() -> None:
    before = details.account("li.na", "李娜", "service_desk", "S001", None)
    after = details.account("li.na", "李娜", "account_manager", "S001", "AM-7")

    assert details.facts("changed", details.account_change(before, after)) == [
        Fact("role", "account_manager", "service_desk"), Fact("directory_id", "AM-7", "")]
    moved_off = details.account("li.na", "李娜", "marketing", None, None)
    assert details.facts("changed", details.account_change(before, moved_off)) == [
        Fact("role", "marketing", "service_desk"), Fact("store", "", "S001")]


@pytest.mark.parametrize("name", ["Li role=admin", "Wang -> Li", 'Zhao "Z" name=x', "\\ store=S999 ->", "login=x"])
def test_a_name_that_looks_like_other_fields_or_a_change_reads_back_as_that_name(name) -> None:
    before = details.account("li.na", name, "service_desk", "S001", None)
    after = details.account("li.na", name + " Jr", "service_desk", "S001", None)

    assert details.facts("created", before) == [
        Fact("login", "li.na"), Fact("name", name), Fact("role", "service_desk"), Fact("store", "S001")]
    assert details.facts("changed", details.account_change(before, after)) == [Fact("name", name + " Jr", name)]


def test_an_entry_written_before_names_were_quoted_reads_as_it_was_written() -> None:
    assert details.facts("changed", "login=li.na name=李 娜 role=service_desk -> login=li.na name=李 娜 role=marketing") == [
        Fact("role", "marketing", "service_desk")]


def test_a_password_and_ended_sessions_are_read_back() -> None:
    assert details.facts("password_set", details.password_set(True, 2)) == [Fact("password", "generated"), Fact("sessions_ended", "2")]
    assert details.facts("password_set", details.password_set(False, 0)) == [Fact("password", "given"), Fact("sessions_ended", "0")]
    assert details.facts("deactivated", details.sessions_ended(3)) == [Fact("sessions_ended", "3")]
    assert details.facts("password_changed", details.sessions_ended(1)) == [Fact("sessions_ended", "1")]


def test_an_enrolled_client_gives_back_its_kind_and_store_or_service() -> None:
    assert details.facts("created", details.client("till", "S001")) == [Fact("kind", "till"), Fact("store_or_service", "S001")]
    assert details.facts("created", details.client("service", "campaigns")) == [
        Fact("kind", "service"), Fact("store_or_service", "campaigns")]


def test_an_entry_without_a_detail_has_no_facts_and_one_in_another_form_is_left_as_written() -> None:
    assert details.facts("reactivated", "") == []
    assert details.facts("changed", "moved to head office") is None
    assert details.facts("deactivated", "by request of the store") is None
