"""CloudEvents Kafka binding: binary mode out, binary and structured mode in."""

import json
from datetime import UTC, datetime

import pytest

from shared.events.binding import UnreadableEvent, from_kafka, to_kafka
from shared.events.envelope import Envelope, sale_event_id


def _envelope() -> Envelope:
    return Envelope(
        id="e-1", source="crm/gateway", type="crm.pos.purchase_made.v1", time=datetime(2026, 11, 23, 2, 15, tzinfo=UTC),
        subject="m-1", correlationid="c-1", data={"store_id": "S001", "total": "79.80", "name": "金龙鱼"},
    )


def test_binary_mode_round_trip_keeps_every_attribute() -> None:
    value, headers = to_kafka(_envelope())
    names = {k for k, _ in headers}
    assert {"ce_id", "ce_source", "ce_type", "ce_time", "ce_specversion", "ce_subject", "ce_correlationid"} <= names
    assert json.loads(value) == _envelope().data
    assert from_kafka(value, headers) == _envelope()


def test_structured_mode_is_accepted() -> None:
    body = _envelope().model_dump(mode="json")
    parsed = from_kafka(json.dumps(body).encode(), [("content-type", b"application/cloudevents+json")])
    assert parsed == _envelope()


@pytest.mark.parametrize(
    ("value", "headers", "reason"),
    [
        (b"not json", [("ce_id", b"x")], "not JSON"),
        (b'{"a": 1}', [], "neither ce_"),
        (b'{"a": 1}', [("ce_id", b"x"), ("ce_type", b"t")], "invalid CloudEvents envelope"),
    ],
)
def test_unreadable_records_are_reported_as_such(value: bytes, headers: list, reason: str) -> None:
    with pytest.raises(UnreadableEvent, match=reason):
        from_kafka(value, headers)


def test_sale_event_id_is_deterministic_per_transaction_and_kind() -> None:
    assert sale_event_id("S001", "T1") == sale_event_id("S001", "T1")
    assert sale_event_id("S001", "T1") != sale_event_id("S002", "T1")
    assert sale_event_id("S001", "T1") != sale_event_id("S001", "T1", kind="refund")
