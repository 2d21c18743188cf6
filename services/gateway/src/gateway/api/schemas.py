"""Bodies of the gateway API: POS entry, stores, the customer-360 view, client credentials.

What a till sends and the 360 view are shapes the service layer works with too, so they live in
domain/ and are named here for the routes."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from gateway.domain.customer360 import Customer360, Unavailable
from gateway.domain.identity import DOWNSTREAM_SERVICES, ClientKind
from gateway.domain.sales import PosMember, PosPurchaseIn, PosRefundIn
from shared.bodies import Body
from shared.identifiers import StoreId
from shared.strict import StrictBool
from shared.text import NonBlankText, Text

__all__ = [
    "AuditEntry", "ClientIn", "ClientPublic", "ClientWithSecret", "Customer360", "PosAccepted", "PosMember",
    "PosPurchaseIn", "PosRefundIn", "StoreAuditEntry", "StoreIn", "StorePublic", "TokenOut", "Unavailable",
]


class PosAccepted(BaseModel):
    event_id: str
    duplicate: bool = Field(description="True when this exact transaction was already accepted (a retry)")


class StoreIn(Body):
    # Customers read it in messages ("your gift waits at …"): never blank.
    name: NonBlankText = Field(min_length=1, max_length=100)
    city: Text = Field(default="", max_length=50)
    # A closed store refuses its tills' sales and new home-store customers: "no" or 0 read as
    # false would close it by a client's mistake (shared.strict). Left out, a store stays as it is
    # (a new one opens): a rename that does not mention it must not reopen a closed store.
    active: StrictBool = Field(
        default=True, description="open for business; left out, a new store opens and an existing one stays as it is",
    )


class StorePublic(StoreIn):
    # An answer: pydantic's default, not the body's refusal of unknown fields or lax values.
    model_config = ConfigDict(extra="ignore")

    active: bool
    store_id: str
    created_at: datetime


class ClientIn(Body):
    kind: ClientKind = Field(description="`till` (bound to one store) or `service` (names one of the platform's services)")
    store_id: StoreId | None = Field(default=None, description="the till's store; only for `till`")
    service: Text | None = Field(
        default=None, max_length=32,
        description=f"the service's name, one of {', '.join(f'`{s}`' for s in DOWNSTREAM_SERVICES)}; only for `service`",
    )
    label: Text = Field(default="", max_length=100, description="free text for people, e.g. `till 3 by the entrance`")


class ClientPublic(BaseModel):
    client_id: str
    kind: ClientKind
    store_id: str | None
    service: str | None
    label: str
    created_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


class ClientWithSecret(ClientPublic):
    client_secret: str = Field(description="shown this once; only its hash is kept")


class AuditEntry(BaseModel):
    at: datetime
    actor: str
    actor_role: str
    action: str
    client_id: str
    detail: str


class StoreAuditEntry(BaseModel):
    at: datetime
    actor: str
    actor_role: str
    action: str = Field(description="`created`, `renamed`, `closed` or `reopened`")
    store_id: str
    detail: str = Field(description='what it was called: `name="城南店" city="杭州"`, before `->` after for a renaming')


class TokenOut(BaseModel):
    """RFC 6749 §5.1."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: int = Field(description="seconds the token is valid for")
