"""CloudEvents 1.0 envelope.

`source` + `id` are unique per event (CloudEvents §3.1.1); consumers dedupe on `id`, which we make
globally unique (UUIDs, or a UUIDv5 of the POS transaction for sales, see `sale_event_id`).
`subject` is the member id when one is known, so log lines and dead letters name the customer
without carrying personal data. `correlationid` is an extension attribute that follows a request
through every hop. `crmcredential` is an extension attribute holding the bearer token of the till
that made a sale or return (see `shared.events.credentials`); other events leave it out.
"""

import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic_core import to_json

SALE_NAMESPACE = uuid.UUID("1b4e28ba-2fa1-11d2-883f-0016d3cca427")


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=200)
    time: AwareDatetime
    subject: str | None = None
    datacontenttype: str = "application/json"
    correlationid: str | None = None
    # A bearer token: kept out of reprs so it never lands in a log line or an error message.
    crmcredential: str | None = Field(default=None, max_length=4096, repr=False)
    data: dict[str, Any]


def source_of(service_name: str) -> str:
    """The CloudEvents `source` of the events a service of the platform publishes."""
    return f"crm/{service_name}"


def new_event(
    type_: str,
    data: BaseModel,
    *,
    source: str,
    subject: str | None = None,
    event_id: str | None = None,
    correlation_id: str | None = None,
    credential: str | None = None,
) -> Envelope:
    return Envelope(
        id=event_id or str(uuid.uuid4()),
        source=source,
        type=type_,
        time=datetime.now(UTC),
        subject=subject,
        correlationid=correlation_id,
        crmcredential=credential,
        data=data.model_dump(mode="json"),
    )


def envelope_texts(
    type_: str,
    items: Iterable[tuple[BaseModel, str | None, str | None]],
    *,
    source: str,
    correlation_id: str | None = None,
) -> Iterator[tuple[str, str]]:
    """(event id, envelope JSON) for each (data, event id or None, subject or None): the text of
    `new_event(...).model_dump_json()`, for the tens of thousands of events of one type that one
    command emits (a campaign launch, a round of offer lists, the analytics job's attributes),
    through one `EnvelopeFrame`."""
    frame = EnvelopeFrame(type_, source=source)
    for data, event_id, subject in items:
        event_id = event_id or str(uuid.uuid4())
        yield event_id, frame.text(event_id, data.model_dump_json(), subject=subject, correlation_id=correlation_id)


class EnvelopeFrame:
    """The JSON of envelopes of one type and source, as `new_event(...).model_dump_json()` writes
    them, for events that differ only in id, subject, correlation id and data (all at the time the
    frame was made). The envelope model is serialised once, and each event's values are put in
    their places: a fifth of the cost of an envelope model per event, which showed when one
    command or one batch of sales announces thousands of events."""

    def __init__(self, type_: str, *, source: str) -> None:
        marks = [str(uuid.uuid4()) for _ in range(3)]
        frame = new_event(
            type_, _Empty(), source=source, event_id=marks[0], subject=marks[1], correlation_id=marks[2],
        ).model_dump_json()
        parts: list[str] = []
        rest = frame
        for mark in marks:  # id, subject and correlationid come in this order in the model
            head, sep, rest = rest.partition(to_json(mark).decode())
            if not sep:
                raise AssertionError(f"unexpected envelope layout: {frame}")
            parts.append(head)
        if not rest.endswith('"data":{}}'):
            raise AssertionError(f"unexpected envelope layout: {frame}")
        parts.append(rest[:-len("{}}")])
        self._parts = parts

    def text(self, event_id: str, data_json: str, *, subject: str | None = None, correlation_id: str | None = None) -> str:
        """The envelope of one event; `data_json` is its payload's `model_dump_json()`."""
        if len(event_id) > 200:
            raise ValueError(f"event id longer than 200 characters: {event_id[:50]}...")
        head, after_id, after_subject, before_data = self._parts
        return (f"{head}{to_json(event_id).decode()}{after_id}{to_json(subject).decode()}{after_subject}"
                f"{to_json(correlation_id).decode()}{before_data}{data_json}}}")


class _Empty(BaseModel):
    pass


def sale_event_id(store_id: str, pos_txn_id: str, kind: str = "sale") -> str:
    """Deterministic id of a POS transaction's event: a replayed backlog yields the same id."""
    return str(uuid.uuid5(SALE_NAMESPACE, f"{kind}/{store_id}/{pos_txn_id}"))
