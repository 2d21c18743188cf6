"""Creating once per Idempotency-Key: a campaign, a coupon template, a promotion or a segment.

Each create carries an `Idempotency-Key` (the header's rule: `shared.idempotency`) standing for one
intended thing. A double click, a browser sending the form again or a client's retry after a lost
answer sends the key again and is answered what the first request made (the same id; 200, as
every service answers a retry, where the first was 201) instead of making a second one. The key sent with another body, or for another kind of thing, is
refused (409): answered with the first, the caller would take a thing they did not describe for
the one they asked for. Keys are per caller.

The key's row is written before anything else, under the id chosen for what the request will make:
a concurrent retry then waits on that row (its primary key), fails on it once the first commits,
and run again (`Commands.run(retry_on_conflict=True)`) finds the first's answer. Had the key come
after the thing, the retry would wait on whatever unique key the thing has (a template's generic
code) and be refused as a clash with itself.
"""

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel
from sqlmodel import SQLModel

from campaigns.adapters.tables import CreateRequestRow
from shared.commands import Commands
from shared.errors import Conflict
from shared.unit_of_work import UnitOfWork

T = TypeVar("T", bound=SQLModel)
Kind = Literal["campaign", "coupon_template", "promotion", "segment"]


class IdempotencyConflict(Conflict):
    """The Idempotency-Key was already used by the same caller for another request."""


@dataclass(frozen=True)
class CreateRequest:
    kind: Kind
    created_by: str
    idempotency_key: str
    body: BaseModel

    @property
    def digest(self) -> str:
        """Fingerprint of the body as the route parsed it (defaults filled in), so a retry that
        leaves out a default it sent the first time is still the same request."""
        return hashlib.sha256(self.body.model_dump_json().encode()).hexdigest()


def _words(kind: str) -> str:
    return kind.replace("_", " ")


@dataclass(frozen=True)
class Created(Generic[T]):
    row: T
    retry: bool  # made by an earlier request under the key


async def create_once(
    commands: Commands, request: CreateRequest,
    make: Callable[[UnitOfWork, str], Awaitable[T]], find: Callable[[UnitOfWork, str], Awaitable[T]],
) -> Created[T]:
    """What the request makes (`make(uow, id)`, committed), or what the first request under its key
    made (`find(uow, id)`, a retry)."""

    async def command(uow: UnitOfWork) -> Created[T]:
        digest, key = request.digest, request.idempotency_key
        earlier = await uow.session.get(CreateRequestRow, (request.created_by, key))
        if earlier is not None:
            if earlier.kind != request.kind:
                raise IdempotencyConflict(f"Idempotency-Key {key} was already used for another request (a {_words(earlier.kind)}); "
                                          f"a new {_words(request.kind)} needs a new key")
            if earlier.request_hash != digest:
                raise IdempotencyConflict(f"Idempotency-Key {key} was already used for a different {_words(request.kind)}; "
                                          f"a new {_words(request.kind)} needs a new key")
            return Created(await find(uow, earlier.resource_id), retry=True)
        resource_id = str(uuid.uuid4())
        uow.session.add(CreateRequestRow(
            created_by=request.created_by, idempotency_key=key, kind=request.kind, request_hash=digest,
            resource_id=resource_id, created_at=uow.now(),
        ))
        await uow.session.flush()  # the key first: see the module's docstring
        made = await make(uow, resource_id)
        await uow.session.flush()
        # Answered as stored, as a retry reads it back (a control share of 0.10 is kept as 0.100)
        await uow.session.refresh(made)
        return Created(made, retry=False)

    return await commands.run(command, retry_on_conflict=True)
