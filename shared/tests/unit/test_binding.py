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


def test_a_header_without_a_value_counts_as_absent() -> None:
    # Null header values are allowed by the protocol; aiokafka hands them over as None.
    value, headers = to_kafka(_envelope())
    nulls = [("x-trace", None), *((k, None) if k == "ce_subject" else (k, v) for k, v in headers)]
    assert from_kafka(value, nulls) == _envelope().model_copy(update={"subject": None})
    with pytest.raises(UnreadableEvent, match="neither ce_"):
        from_kafka(value, [("ce_id", None)])


def test_sale_event_id_is_deterministic_per_transaction_and_kind() -> None:
    assert sale_event_id("S001", "T1") == sale_event_id("S001", "T1")
    assert sale_event_id("S001", "T1") != sale_event_id("S002", "T1")
    assert sale_event_id("S001", "T1") != sale_event_id("S001", "T1", kind="refund")


@pytest.mark.parametrize("parts", [("attributes", "m0000001", 1, "ab" * 32), ("birthday", "会员-1", 2026), (), ("a/b", None)])
def test_derived_event_ids_are_the_uuid5_of_the_service_namespace_and_the_parts(parts: tuple[object, ...]) -> None:
    # Ids already in outboxes and consumers' dedupe tables must come out the same, byte for byte.
    import uuid

    from shared.commands import derived_event_id, service_namespace

    for service in ("members", "points"):
        expected = str(uuid.uuid5(service_namespace(service), "/".join(str(p) for p in parts)))
        assert derived_event_id(service, *parts) == expected
    assert derived_event_id("members", *parts) != derived_event_id("points", *parts)


def test_envelope_texts_of_a_bulk_emission_read_back_as_the_envelopes_themselves() -> None:
    from shared.events import contracts as c
    from shared.events.envelope import envelope_texts, new_event

    at = datetime(2026, 11, 23, 2, 15, tzinfo=UTC)
    coupons = [c.CouponIssuedV1(coupon_id=f"c-{n}", template_id="t-1", campaign_id=None if n else "k-1", member_id="m-1",
                                valid_from=at, valid_until=at, issued_at=at) for n in range(3)]
    subjects = ["m-1", None, "会员-3"]
    texts = list(envelope_texts("crm.campaigns.coupon_issued.v1",
                                [(coupons[0], "e-1", subjects[0]), (coupons[1], None, subjects[1]), (coupons[2], "e-3", subjects[2])],
                                source="crm/campaigns", correlation_id="关联-1"))
    assert [event_id for event_id, _ in texts][::2] == ["e-1", "e-3"] and texts[1][0]
    for (event_id, text), coupon, subject in zip(texts, coupons, subjects, strict=True):
        parsed = Envelope.model_validate_json(text)
        expected = new_event("crm.campaigns.coupon_issued.v1", coupon, source="crm/campaigns", event_id=event_id,
                             correlation_id="关联-1", subject=subject)
        assert parsed.model_dump(exclude={"time"}) == expected.model_dump(exclude={"time"})
        assert c.CouponIssuedV1.model_validate(parsed.data) == coupon


def test_envelope_texts_refuse_an_event_id_the_envelope_would_refuse() -> None:
    from shared.events import contracts as c
    from shared.events.envelope import envelope_texts

    at = datetime(2026, 11, 23, 2, 15, tzinfo=UTC)
    coupon = c.CouponIssuedV1(coupon_id="c", template_id="t", member_id="m", valid_from=at, valid_until=at, issued_at=at)
    with pytest.raises(ValueError, match="longer than 200"):
        list(envelope_texts("crm.campaigns.coupon_issued.v1", [(coupon, "x" * 201, None)], source="crm/campaigns"))


@pytest.mark.parametrize("at", [datetime(2026, 11, 23, 2, 15, tzinfo=UTC), datetime(2026, 11, 23, 2, 15, 0, 123456, tzinfo=UTC)])
def test_the_relay_publishes_a_stored_envelope_exactly_as_the_envelope_itself(at: datetime) -> None:
    from shared.events.binding import stored_to_kafka

    envelope = _envelope().model_copy(update={"time": at, "subject": None, "crmcredential": "eyJ.till.token"})
    value, headers = to_kafka(envelope)
    assert stored_to_kafka(envelope.model_dump_json()) == (value, headers, int(at.timestamp() * 1000))
