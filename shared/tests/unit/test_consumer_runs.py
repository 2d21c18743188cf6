"""How `apply_batch` deals a batch's events to handlers: runs of one type go to that type's batch
handler, runs of types sharing one batch handler go to it together, in order, and every other event
to its single handler, the order between runs kept. On a real SQLite file (the dedupe table)."""

from pathlib import Path

from shared.consumer import PROCESSED, Delivery, EventConsumer
from shared.db import make_engine, make_sessionmaker
from shared.events import contracts as c
from shared.events.envelope import new_event
from shared.events.registry import CONSENT_CHANGED, MEMBER_ERASED, MEMBER_REGISTERED, PERSONALISATION_CHANGED
from shared.settings import ServiceSettings
from shared.unit_of_work import UnitOfWork

AT = "2026-12-01T08:00:00+00:00"


def events() -> list:
    registered = c.MemberRegisteredV1.model_validate(
        {"member_id": "m1", "card_no": "8800000000011", "channel": "retail", "registered_at": AT})
    consent = c.ConsentChangedV1.model_validate(
        {"member_id": "m1", "purpose": "marketing_sms", "granted": True, "channel": "service_desk", "changed_at": AT})
    choice = c.PersonalisationChangedV1.model_validate(
        {"member_id": "m1", "personalised": False, "channel": "app", "changed_at": AT})
    erased = c.MemberErasedV1.model_validate({"member_id": "m1", "erased_at": AT})
    kinds = [(MEMBER_REGISTERED, registered), (CONSENT_CHANGED, consent), (MEMBER_REGISTERED, registered),
             (MEMBER_ERASED, erased), (PERSONALISATION_CHANGED, choice), (CONSENT_CHANGED, consent)]
    return [new_event(kind, data, source="crm/members", subject="m1") for kind, data in kinds]


async def test_types_sharing_a_batch_handler_form_one_run_and_the_order_between_runs_is_kept(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'consumer.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(PROCESSED.create)
    calls: list[tuple[str, list[str]]] = []

    async def facts(uow: UnitOfWork, deliveries: list[Delivery]) -> None:
        calls.append(("facts", [d.envelope.type for d in deliveries]))

    async def one(uow: UnitOfWork, delivery: Delivery) -> None:
        calls.append(("one", [delivery.envelope.type]))

    settings = ServiceSettings(service_name="test", kafka_topic_prefix="t1.")
    consumer = EventConsumer(settings, make_sessionmaker(engine), handlers={MEMBER_ERASED: one},
                             batch_handlers={MEMBER_REGISTERED: facts, CONSENT_CHANGED: facts, PERSONALISATION_CHANGED: facts})
    try:
        batch = events()
        await consumer.apply_batch([consumer.delivery(e) for e in batch])
        await consumer.apply_batch([consumer.delivery(e) for e in batch])  # redelivered: applied once
    finally:
        await engine.dispose()
    assert calls == [
        ("facts", [MEMBER_REGISTERED, CONSENT_CHANGED, MEMBER_REGISTERED]),
        ("one", [MEMBER_ERASED]),
        ("facts", [PERSONALISATION_CHANGED, CONSENT_CHANGED]),
    ]
