"""CloudEvents Kafka protocol binding.

We publish in *binary* content mode: the envelope attributes travel as `ce_*` headers, the value is
the JSON `data`, and the record key is the partition key (the member id, or the POS customer
reference before a sale is matched). We accept *structured* mode too (value = whole envelope,
`content-type: application/cloudevents+json`), which is the easier one for a POS vendor to
produce with a stock Kafka client. docs/events.md documents both.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from shared.events.envelope import Envelope

STRUCTURED = "application/cloudevents+json"
_ATTRS = ("specversion", "id", "source", "type", "time", "subject", "correlationid", "crmcredential")

Headers = list[tuple[str, bytes]]


class UnreadableEvent(ValueError):
    """A record that is not a CloudEvent we can parse: poison, goes to the dead-letter topic."""


def to_kafka(envelope: Envelope) -> tuple[bytes, Headers]:
    headers: Headers = [("content-type", envelope.datacontenttype.encode())]
    for attr in _ATTRS:
        value = getattr(envelope, attr)
        if value is None:
            continue
        text = value.isoformat() if attr == "time" else str(value)
        headers.append((f"ce_{attr}", text.encode()))
    # orjson: compact UTF-8 like json.dumps(ensure_ascii=False, separators=(",", ":")), at a
    # twentieth of its CPU (a relay publishes thousands of events a second).
    value = orjson.dumps(envelope.data)
    return value, headers


def stored_to_kafka(text: str) -> tuple[bytes, Headers, int]:
    """`to_kafka` of an envelope stored by the outbox (its JSON, validated when it was emitted),
    plus the event's time in epoch milliseconds: the same value and headers without building the
    model again, which was most of what a relay spent per event."""
    fields = orjson.loads(text)
    headers: Headers = [("content-type", fields.get("datacontenttype", "application/json").encode())]
    at = datetime.fromisoformat(fields["time"])
    for attr in _ATTRS:
        value = fields.get(attr)
        if value is None:
            continue
        headers.append((f"ce_{attr}", (at.isoformat() if attr == "time" else str(value)).encode()))
    return orjson.dumps(fields["data"]), headers, int(at.timestamp() * 1000)


def from_kafka(value: bytes | None, headers: Sequence[tuple[str, bytes | None]]) -> Envelope:
    # A header may have a null value (the protocol allows it, aiokafka hands it over as None): it
    # says nothing, so it counts as absent.
    hdrs = {k.lower(): v.decode("utf-8", "replace") for k, v in headers or () if v is not None}
    try:
        # orjson: a third of json.loads' CPU, and strict JSON (no NaN, integers within 64 bits).
        body: Any = orjson.loads(value) if value else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnreadableEvent(f"value is not JSON: {exc}") from exc
    try:
        if "ce_id" in hdrs:
            attrs: dict[str, Any] = {a: hdrs[f"ce_{a}"] for a in _ATTRS if f"ce_{a}" in hdrs}
            return Envelope(**attrs, data=body, datacontenttype=hdrs.get("content-type", "application/json"))
        if isinstance(body, dict) and "specversion" in body:
            return Envelope.model_validate(body)
    except ValidationError as exc:
        raise UnreadableEvent(f"invalid CloudEvents envelope: {exc}") from exc
    raise UnreadableEvent("neither ce_* headers nor a structured CloudEvents body")
