"""Handlers read their payload as the contract of their event type, checked rather than assumed."""

import re
from datetime import UTC, datetime

import pytest

from feedback.service_layer.member_events import payload_of
from shared.consumer import Delivery
from shared.events import contracts as c
from shared.events.envelope import new_event
from shared.events.registry import MEMBER_ERASED

AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def delivery(payload: c.MemberErasedV1) -> Delivery:
    return Delivery(new_event(MEMBER_ERASED, payload, source="members"), payload)


def test_the_payload_comes_back_as_its_contract() -> None:
    erased = c.MemberErasedV1(member_id="m-1", erased_at=AT)
    got = payload_of(delivery(erased), c.MemberErasedV1)
    assert got is erased and got.member_id == "m-1"


def test_a_payload_of_another_contract_is_refused_naming_both() -> None:
    erased = c.MemberErasedV1(member_id="m-1", erased_at=AT)
    with pytest.raises(TypeError, match=re.escape("crm.members.member_erased.v1 carries a MemberErasedV1, not a TierChangedV1")):
        payload_of(delivery(erased), c.TierChangedV1)
