"""The explicit map from versioned event type to topic and payload model.

Consumers route on `type` strings found here, never on class names; a type that is not here is
logged and skipped (a newer producer may be ahead of this consumer).
"""

from dataclasses import dataclass

from pydantic import BaseModel

from shared.events import contracts as c


class Topics:
    POS_PURCHASES = "crm.pos.purchases"
    MEMBERS = "crm.members.events"
    DEAD_LETTER = "crm.dead-letter"


@dataclass(frozen=True)
class EventSpec:
    type: str
    topic: str
    model: type[BaseModel]


class EventRegistry:
    def __init__(self, specs: list[EventSpec]) -> None:
        self._by_type = {spec.type: spec for spec in specs}

    def __getitem__(self, type_: str) -> EventSpec:
        return self._by_type[type_]

    def get(self, type_: str) -> EventSpec | None:
        return self._by_type.get(type_)

    def __iter__(self):
        return iter(self._by_type.values())

    def topics(self) -> set[str]:
        return {spec.topic for spec in self._by_type.values()}


PURCHASE_MADE = "crm.pos.purchase_made.v1"
PURCHASE_REFUNDED = "crm.pos.purchase_refunded.v1"
MEMBER_REGISTERED = "crm.members.member_registered.v1"
PURCHASE_ATTRIBUTED = "crm.members.purchase_attributed.v1"

REGISTRY = EventRegistry(
    [
        EventSpec(PURCHASE_MADE, Topics.POS_PURCHASES, c.PurchaseMadeV1),
        EventSpec(PURCHASE_REFUNDED, Topics.POS_PURCHASES, c.PurchaseRefundedV1),
        EventSpec(MEMBER_REGISTERED, Topics.MEMBERS, c.MemberRegisteredV1),
        EventSpec(PURCHASE_ATTRIBUTED, Topics.MEMBERS, c.PurchaseAttributedV1),
    ]
)
