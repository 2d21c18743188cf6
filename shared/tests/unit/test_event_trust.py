"""Which events a consumer accepts: a type only from its owner's topic, unknown types by the
topic's rules, POS sales and returns only with a valid credential of a till of their store."""

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import jwt
import pytest
from aiokafka import ConsumerRecord

from shared.auth import Role, TokenIssuer, TokenVerifier, generate_keypair
from shared.consumer import EventConsumer, ForeignEvent, UnknownEventType
from shared.events import contracts as c
from shared.events.binding import UnreadableEvent, from_kafka, to_kafka
from shared.events.credentials import InvalidCredential
from shared.events.envelope import Envelope, new_event
from shared.events.registry import (
    COMPLAINT_RESOLVED,
    MEMBER_ERASED,
    MEMBER_REGISTERED,
    PURCHASE_MADE,
    PURCHASE_REFUNDED,
    Topics,
)
from shared.settings import ServiceSettings

PRIVATE, PUBLIC = generate_keypair()
ISSUER = TokenIssuer(PRIVATE)
PREFIX = "t1."
NOW = datetime.now(UTC)


async def _noop(uow, delivery) -> None:
    raise AssertionError("never applied here")


def consumer(*types: str) -> EventConsumer:
    settings = ServiceSettings(service_name="test", kafka_topic_prefix=PREFIX, jwt_public_key=PUBLIC)
    return EventConsumer(settings, sessions=None, handlers={t: _noop for t in types})  # type: ignore[arg-type]


def sale(store: str = "S001") -> c.PurchaseMadeV1:
    return c.PurchaseMadeV1(
        store_id=store, pos_txn_id="T1", occurred_at=datetime(2026, 11, 23, 2, 15, tzinfo=UTC), customer=None,
        lines=[c.SaleLine(sku="1", qty=Decimal(1), unit_price=Decimal("9.90"), amount=Decimal("9.90"))],
        total=Decimal("9.90"), payment="cash",
    )


def resolved() -> c.ComplaintResolvedV1:
    return c.ComplaintResolvedV1.model_validate(
        {"complaint_id": "C1", "member_id": "m1", "store_id": "S001", "category": "price", "severity": "high",
         "resolved_at": NOW.isoformat(), "compensation_points": 5000}
    )


def till(store: str = "S001", *, role: Role = Role.POS, issued: datetime | None = None, ttl: timedelta = timedelta(hours=12)) -> str:
    claims = {"store_id": store} if store else {}
    token = ISSUER.mint("till-1", role, ttl=ttl, **claims)
    if issued is None:
        return token
    # Re-signed with a chosen issue time, as a token minted back then would be.
    payload = jwt.decode(token, options={"verify_signature": False})
    payload.update(iat=int(issued.timestamp()), exp=int((issued + ttl).timestamp()))
    return jwt.encode(payload, ISSUER._key, algorithm="EdDSA")


# --- finding: a type only from the topic its owner publishes to ---------------------------------

@pytest.mark.parametrize(
    ("type_", "payload", "topic"),
    [
        (COMPLAINT_RESOLVED, resolved(), Topics.POS_PURCHASES),  # a till forging compensation points
        (COMPLAINT_RESOLVED, resolved(), Topics.MEMBERS),
        (MEMBER_ERASED, c.MemberErasedV1.model_validate({"member_id": "m1", "erased_at": NOW.isoformat()}), Topics.FEEDBACK),
    ],
)
def test_an_event_type_read_from_another_topic_than_its_owners_is_rejected(type_, payload, topic) -> None:
    points = consumer(COMPLAINT_RESOLVED, MEMBER_ERASED, PURCHASE_MADE)
    with pytest.raises(ForeignEvent, match="published on"):
        points.delivery(new_event(type_, payload, source="forger"), topic=PREFIX + topic)


def test_a_type_on_its_owners_topic_is_accepted_with_the_prefix() -> None:
    points = consumer(COMPLAINT_RESOLVED)
    delivery = points.delivery(new_event(COMPLAINT_RESOLVED, resolved(), source="crm/feedback"), topic=PREFIX + Topics.FEEDBACK)
    assert delivery is not None and delivery.payload.compensation_points == 5000
    # Unprefixed, the same topic name belongs to another deployment sharing the broker.
    with pytest.raises(ForeignEvent):
        points.delivery(new_event(COMPLAINT_RESOLVED, resolved(), source="x"), topic=Topics.FEEDBACK)


def test_a_foreign_type_is_rejected_even_when_this_consumer_does_not_handle_it() -> None:
    # Points reads the feedback topic; a member_erased there is a forgery whoever handles it.
    erased = c.MemberErasedV1.model_validate({"member_id": "m1", "erased_at": NOW.isoformat()})
    with pytest.raises(ForeignEvent):
        consumer(COMPLAINT_RESOLVED).delivery(new_event(MEMBER_ERASED, erased, source="x"), topic=PREFIX + Topics.FEEDBACK)


# --- finding: unknown types --------------------------------------------------------------------

def _typed(type_: str) -> Envelope:
    return new_event(MEMBER_REGISTERED, c.MemberRegisteredV1.model_validate(
        {"member_id": "m1", "card_no": "8800000000001", "channel": "retail", "registered_at": NOW.isoformat()}
    ), source="x").model_copy(update={"type": type_})


def test_an_unknown_type_on_the_pos_topic_is_rejected_not_skipped() -> None:
    members = consumer(PURCHASE_MADE, PURCHASE_REFUNDED)
    with pytest.raises(UnknownEventType, match=r"crm\.pos\.purchase_mde\.v1"):
        members.delivery(_typed("crm.pos.purchase_mde.v1"), topic=PREFIX + Topics.POS_PURCHASES)
    with pytest.raises(UnknownEventType):  # a newer version from outside is no exception there
        members.delivery(_typed("crm.pos.purchase_made.v2"), topic=PREFIX + Topics.POS_PURCHASES)


def test_a_newer_type_of_the_topics_owner_is_skipped_and_a_stranger_rejected() -> None:
    points = consumer(MEMBER_REGISTERED)
    assert points.delivery(_typed("crm.members.member_registered.v2"), topic=PREFIX + Topics.MEMBERS) is None
    with pytest.raises(UnknownEventType):
        points.delivery(_typed("crm.feedback.member_registered.v1"), topic=PREFIX + Topics.MEMBERS)


def test_a_known_type_of_the_topic_that_this_service_does_not_handle_is_skipped() -> None:
    assert consumer(MEMBER_ERASED).delivery(_typed(MEMBER_REGISTERED), topic=PREFIX + Topics.MEMBERS) is None


def _record(envelope: Envelope, topic: str, value: bytes | None = None) -> ConsumerRecord:
    encoded, headers = to_kafka(envelope)
    return ConsumerRecord(topic=topic, partition=0, offset=0, timestamp=0, timestamp_type=0, key=None,
                          value=encoded if value is None else value, checksum=None, serialized_key_size=0,
                          serialized_value_size=0, headers=headers)


def test_a_type_handled_only_in_batches_is_subscribed_to_and_delivered() -> None:
    settings = ServiceSettings(service_name="test", kafka_topic_prefix=PREFIX, jwt_public_key=PUBLIC)
    batched = EventConsumer(settings, sessions=None, handlers={MEMBER_ERASED: _noop},  # type: ignore[arg-type]
                            batch_handlers={COMPLAINT_RESOLVED: _noop})
    assert batched.topics == sorted({PREFIX + Topics.MEMBERS, PREFIX + Topics.FEEDBACK})
    assert batched.delivery(new_event(COMPLAINT_RESOLVED, resolved(), source="x")) is not None


def test_a_record_of_a_type_handled_elsewhere_is_skipped_by_its_header_alone() -> None:
    # Its value is never parsed: a launch's 100,000 coupons cost the sender no JSON decoding.
    unreadable = _record(_typed(MEMBER_REGISTERED), PREFIX + Topics.MEMBERS, value=b"not json")
    assert consumer(MEMBER_ERASED)._parse(unreadable) is None
    # A handled type is parsed (and an unreadable one refused), a type on the wrong topic is
    # still a forgery, whatever this consumer handles.
    with pytest.raises(UnreadableEvent):
        consumer(MEMBER_REGISTERED)._parse(unreadable)
    with pytest.raises(ForeignEvent):
        consumer(MEMBER_ERASED)._parse(_record(_typed(MEMBER_REGISTERED), PREFIX + Topics.FEEDBACK))


def test_its_own_events_of_a_type_it_also_reads_from_others_are_skipped_by_their_source_alone() -> None:
    # The gateway publishes the sales it accepts and reads those tills publish straight to Kafka.
    settings = ServiceSettings(service_name="gateway", kafka_topic_prefix=PREFIX, jwt_public_key=PUBLIC)
    gateway = EventConsumer(settings, sessions=None, handlers={PURCHASE_MADE: _noop},  # type: ignore[arg-type]
                            own_skipped=frozenset({PURCHASE_MADE}))
    own = _record(new_event(PURCHASE_MADE, sale("S001"), source="crm/gateway"), PREFIX + Topics.POS_PURCHASES, value=b"not json")
    assert gateway._parse(own) is None  # never parsed: the gateway kept it as it accepted it
    vendors = _record(new_event(PURCHASE_MADE, sale("S001"), source="pos/vendor-a/S001"), PREFIX + Topics.POS_PURCHASES,
                      value=b"not json")
    with pytest.raises(UnreadableEvent):
        gateway._parse(vendors)
    # Without the type among `own_skipped`, its own are read like any other.
    with pytest.raises(UnreadableEvent):
        EventConsumer(settings, sessions=None, handlers={PURCHASE_MADE: _noop})._parse(own)  # type: ignore[arg-type]


# --- finding: POS events carry a till's credential ---------------------------------------------

def _pos(credential: str | None, store: str = "S001") -> Envelope:
    return new_event(PURCHASE_MADE, sale(store), source="pos/vendor-a/S001", credential=credential)


def _deliver(envelope: Envelope, published_at: datetime | None = None):
    # Through the Kafka binding, as a record would come in; published now unless said otherwise
    # (not at NOW: the module's time, minutes before a till token minted in a long run).
    value, headers = to_kafka(envelope)
    return consumer(PURCHASE_MADE).delivery(from_kafka(value, headers), topic=PREFIX + Topics.POS_PURCHASES,
                                            published_at=published_at or datetime.now(UTC))


def test_a_sale_with_its_stores_till_credential_is_accepted() -> None:
    assert _deliver(_pos(till("S001"))).payload.store_id == "S001"


@pytest.mark.parametrize(
    ("credential", "message"),
    [
        (None, "no till credential"),
        (till("S002"), "store S002 cannot publish for store S001"),
        (till(""), "store None cannot publish"),
        (till(role=Role.ADMIN), "role admin, not of a till"),
        (TokenIssuer(generate_keypair()[0]).mint("till-1", Role.POS, store_id="S001"), "Signature verification failed"),
        ("not-a-jwt", "till credential rejected"),
    ],
)
def test_a_sale_without_a_valid_credential_of_its_store_is_rejected(credential, message) -> None:
    with pytest.raises(InvalidCredential, match=message):
        _deliver(_pos(credential))


def test_a_return_needs_the_credential_too() -> None:
    refund = c.PurchaseRefundedV1(
        store_id="S001", refund_id="R1", pos_txn_id="T1", occurred_at=NOW, customer=None,
        lines=sale().lines, amount=Decimal("9.90"),
    )
    with pytest.raises(InvalidCredential):
        consumer(PURCHASE_REFUNDED).delivery(new_event(PURCHASE_REFUNDED, refund, source="x"), topic=PREFIX + Topics.POS_PURCHASES)


def test_the_credential_is_judged_at_the_time_the_record_was_published() -> None:
    issued = NOW - timedelta(hours=15)
    token = till("S001", issued=issued, ttl=timedelta(hours=12))  # expired three hours ago
    # A backlog read now: published while the token was valid, accepted.
    assert _deliver(_pos(token), published_at=issued + timedelta(hours=11)) is not None
    with pytest.raises(InvalidCredential, match="expired"):
        _deliver(_pos(token), published_at=issued + timedelta(hours=13))
    with pytest.raises(InvalidCredential, match="not yet valid"):
        _deliver(_pos(token), published_at=issued - timedelta(hours=1))


class DeadLetters:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    async def send_and_wait(self, topic: str, **kwargs) -> None:
        self.sent.append({"topic": topic, **kwargs})


async def test_a_dead_letter_keeps_the_records_timestamp_for_its_replay_to_be_judged_at() -> None:
    # Restamped with the time it failed, a sale replayed from it would be judged when its till's
    # token had expired, and dead-lettered again.
    sold_ms = int((NOW - timedelta(hours=3)).timestamp() * 1000)
    events, dlq = consumer(PURCHASE_MADE), DeadLetters()
    events._dlq = dlq  # type: ignore[assignment]
    sale_record = dataclasses.replace(_record(_pos(till("S001")), PREFIX + Topics.POS_PURCHASES), timestamp=sold_ms)
    await events._dead_letter(sale_record, RuntimeError("database refused it"))
    await events._dead_letter(dataclasses.replace(sale_record, timestamp=-1), RuntimeError("database refused it"))  # none known
    assert [(d["topic"], d["timestamp_ms"]) for d in dlq.sent] == [(PREFIX + Topics.DEAD_LETTER, sold_ms), (PREFIX + Topics.DEAD_LETTER, None)]
    failed_at = datetime.fromisoformat(dict(dlq.sent[0]["headers"])["dlq_failed_at"].decode())
    assert failed_at >= NOW  # the failure's own time travels in its header


def test_a_sale_whose_record_timestamp_is_no_time_is_unreadable_rather_than_judged_now() -> None:
    # A producer writing its CreateTime in microseconds: when the till wrote the sale is unknown,
    # so its credential cannot be judged then, and judged now instead it would pass.
    record = _record(_pos(till("S001")), PREFIX + Topics.POS_PURCHASES)
    written_ms = int(datetime.now(UTC).timestamp() * 1000)
    assert consumer(PURCHASE_MADE)._parse(dataclasses.replace(record, timestamp=written_ms)) is not None
    with pytest.raises(UnreadableEvent, match=f"record timestamp {written_ms * 1000} is not a time"):
        consumer(PURCHASE_MADE)._parse(dataclasses.replace(record, timestamp=written_ms * 1000))


async def test_a_dead_letter_leaves_out_what_its_readers_could_not_read() -> None:
    # The operators' console decodes every header value and reads the timestamp as a time: a
    # null-valued header is left out, and a timestamp that is no time is left to the broker to set.
    events, dlq = consumer(PURCHASE_MADE), DeadLetters()
    events._dlq = dlq  # type: ignore[assignment]
    record = _record(_pos(till("S001")), PREFIX + Topics.POS_PURCHASES)
    odd = dataclasses.replace(record, timestamp=int(NOW.timestamp() * 1_000_000), headers=[*record.headers, ("x-trace", None)])
    await events._dead_letter(odd, UnreadableEvent("record timestamp is not a time"))
    [sent] = dlq.sent
    assert sent["timestamp_ms"] is None
    assert [(k, v) for k, v in sent["headers"] if not k.startswith("dlq_")] == record.headers


def test_small_clock_skew_is_tolerated() -> None:
    token = till("S001", issued=NOW, ttl=timedelta(hours=1))
    assert _deliver(_pos(token), published_at=NOW - timedelta(seconds=30)) is not None


def test_verify_at_keeps_the_signature_audience_and_issued_at_checks() -> None:
    verifier = TokenVerifier(PUBLIC, "crm-identity", "crm")
    other = TokenIssuer(PRIVATE, audience="elsewhere").mint("till-1", Role.POS, store_id="S001")
    with pytest.raises(jwt.InvalidAudienceError):
        verifier.verify_at(other, NOW)
    no_iat = jwt.encode({"sub": "x", "role": "pos", "iss": "crm-identity", "aud": "crm", "exp": NOW + timedelta(hours=1)},
                        ISSUER._key, algorithm="EdDSA")
    with pytest.raises(jwt.MissingRequiredClaimError):
        verifier.verify_at(no_iat, NOW)


def test_a_verifier_that_remembers_a_signature_still_judges_each_time_and_each_token() -> None:
    verifier = TokenVerifier(PUBLIC, "crm-identity", "crm")
    issued = NOW - timedelta(hours=15)
    token = till("S001", issued=issued, ttl=timedelta(hours=12))
    assert verifier.verify_at(token, issued + timedelta(hours=1)).store_id == "S001"
    # The same token again, now judged at a time it had expired.
    with pytest.raises(jwt.ExpiredSignatureError):
        verifier.verify_at(token, issued + timedelta(hours=13))
    # Another store written into the same token keeps the old signature: refused, however often.
    header, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False}) | {"store_id": "S002"}
    forged_payload = jwt.encode(claims, ISSUER._key, algorithm="EdDSA").split(".")[1]
    forged = ".".join((header, forged_payload, signature))
    for _ in range(2):
        with pytest.raises(jwt.InvalidSignatureError):
            verifier.verify_at(forged, issued + timedelta(hours=1))


def test_the_credential_never_shows_in_the_envelopes_repr() -> None:
    token = till("S001")
    assert token not in repr(_pos(token))
