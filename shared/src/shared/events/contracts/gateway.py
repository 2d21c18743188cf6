"""What the gateway publishes: the chain's stores, as kept at `PUT /api/v1/stores/...`.

A store's name is the chain's, not a customer's, so it may travel: customer messages name the
store (the VIP welcome, a survey invitation), and the gateway is the one place store names live.
"""

from pydantic import AwareDatetime, Field

from shared.events.contracts.common import Contract, StoreId
from shared.text import Text


class StoreChangedV1(Contract):
    """A store as it is now, after it was created or changed; the latest `changed_at` wins."""

    store_id: StoreId
    name: Text = Field(min_length=1, max_length=100)
    city: Text = Field(default="", max_length=50)
    active: bool
    changed_at: AwareDatetime
