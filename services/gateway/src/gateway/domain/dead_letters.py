"""Dead letters as operators see them, the filters they browse by, and what a replayed record
carries.

A dead letter is the failed record as it was (key, value, headers) plus the headers the consumer
that gave up on it added (`shared.consumer`): `dlq_error` ("Class: message"), `dlq_consumer_group`,
`dlq_original_topic`, `dlq_original_partition`, `dlq_original_offset` and `dlq_failed_at`. It is
identified by its own place in the dead-letter topic, `<partition>-<offset>`."""

import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from shared.errors import Invalid, ServiceError
from shared.zones import typed_moment

DLQ_PREFIX = "dlq_"
# Added to a replayed record: which dead letter it replays. Consumers ignore it (they dedupe by
# event id); it tells a reader of the topic, and a dead letter of a replay, where it came from.
REPLAY_HEADER = "crm_replay_of"
DEAD_LETTER_ID = re.compile(r"^([0-9]{1,9})-([0-9]{1,18})$")
MAX_FILTER_CHARS = 200


class BrokerAway(ServiceError):
    """The dead-letter topic cannot be read or written now (503): nothing was done."""

    status_code = 503


class Mark(StrEnum):
    REPLAYED = "replayed"
    DISCARDED = "discarded"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    partition: int
    offset: int
    key: str | None
    headers: tuple[tuple[str, str], ...]
    value: bytes
    # The dead-letter record's own timestamp. Consumers write it with the failed record's (the
    # event's time, as the relay stamps it), not the failure's (`failed_at`); a letter written
    # before they kept it holds the moment it was dead-lettered.
    written_at: datetime | None

    @property
    def id(self) -> str:
        return f"{self.partition}-{self.offset}"

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k == name), "")

    @property
    def error(self) -> str:
        return self.header("dlq_error")

    @property
    def error_class(self) -> str:
        return self.error.partition(":")[0].strip()

    @property
    def event_type(self) -> str:
        return self.header("ce_type")

    @property
    def event_id(self) -> str:
        return self.header("ce_id")

    @property
    def original_topic(self) -> str:
        return self.header("dlq_original_topic")

    @property
    def consumer_group(self) -> str:
        return self.header("dlq_consumer_group")

    @property
    def original_record(self) -> tuple[str, ...]:
        """The record this letter is of, the same for the letter of every consumer group that gave
        up on it: replayed, the record reaches every group again, so a replay sends it once however
        many of their letters it takes. Its place and event id (a broker that lost its log may give
        another event the same place); a letter naming neither is a record of its own."""
        place = (self.original_topic, self.header("dlq_original_partition"), self.header("dlq_original_offset"))
        return (*place, self.event_id) if all(place) and self.event_id else ("letter", self.id)

    @property
    def failed_at(self) -> datetime | None:
        """When the consumer gave up on the record; the record's timestamp for a letter without a
        readable dlq_failed_at (one no consumer of ours wrote)."""
        text = self.header("dlq_failed_at")
        try:
            moment = datetime.fromisoformat(text) if text else self.written_at
        except ValueError:
            moment = self.written_at
        return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)

    @property
    def event_time(self) -> datetime | None:
        """The event's own time, which a replay is stamped with: consumers judge a till's credential
        at a record's timestamp, and stamped with the replay's time a sale would be judged hours
        after its till's token expired, and dead-lettered again. Its CloudEvents time (the relay
        stamps records with it), else the record's timestamp (a structured-mode letter, without
        the header)."""
        text = self.header("ce_time")
        try:
            moment = datetime.fromisoformat(text) if text else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None or moment.timestamp() <= 0:  # no time to stamp a record with
            return self.written_at
        return moment

    def payload_text(self) -> str:
        """The value for reading: indented JSON where it is JSON, else the text as it decodes."""
        text = self.value.decode("utf-8", "replace")
        try:
            return json.dumps(json.loads(text), ensure_ascii=False, indent=2)
        except ValueError:
            return text

    def replay_headers(self) -> list[tuple[str, bytes]]:
        """The original record's headers (its CloudEvent attributes, its credential) without what
        the dead-lettering added, and the mark of this replay."""
        kept = [(k, v.encode()) for k, v in self.headers if not k.startswith(DLQ_PREFIX) and k != REPLAY_HEADER]
        return [*kept, (REPLAY_HEADER, self.id.encode())]


def parse_id(value: str) -> tuple[int, int]:
    found = DEAD_LETTER_ID.match(value)
    if found is None:
        raise Invalid("id", "a dead letter is named <partition>-<offset>")
    return int(found.group(1)), int(found.group(2))


@dataclass(frozen=True, slots=True)
class Filter:
    """Every field optional; text fields match as a case-insensitive part, times bound `failed_at`."""

    error_class: str = ""
    event_type: str = ""
    topic: str = ""
    key: str = ""
    since: datetime | None = None
    until: datetime | None = None
    # "open" (neither replayed nor discarded), "replayed", "discarded", or "" for all.
    state: str = "open"
    # A replay's bound: (partition, last offset) of the letters its dry run counted. The topic only
    # grows, so what matches within it can only shrink; letters written later (the cause not fixed
    # yet) are left for another dry run. None: no bound (browsing, a dry run).
    through: tuple[tuple[int, int], ...] | None = None

    def matches(self, letter: DeadLetter, mark: Mark | None) -> bool:
        if self.state == "open" and mark is not None:
            return False
        if self.through is not None and letter.offset > dict(self.through).get(letter.partition, -1):
            return False
        if self.state in (Mark.REPLAYED, Mark.DISCARDED) and mark != self.state:
            return False
        for wanted, have in ((self.error_class, letter.error_class), (self.event_type, letter.event_type),
                             (self.topic, letter.original_topic), (self.key, letter.key or "")):
            if wanted and wanted.lower() not in have.lower():
                return False
        failed = letter.failed_at
        if self.since is not None and (failed is None or failed < self.since):
            return False
        return not (self.until is not None and (failed is None or failed >= self.until))

    def bounded_to(self, letters: list[DeadLetter]) -> "Filter":
        """This filter, matching no letter written after the last of `letters` on its partition."""
        last: dict[int, int] = {}
        for letter in letters:
            last[letter.partition] = max(letter.offset, last.get(letter.partition, -1))
        return dataclasses.replace(self, through=tuple(sorted(last.items())))

    def as_params(self) -> dict[str, str]:
        params = {"error_class": self.error_class, "event_type": self.event_type, "topic": self.topic,
                  "key": self.key, "state": self.state,
                  "since": self.since.isoformat() if self.since else "", "until": self.until.isoformat() if self.until else ""}
        return {k: v for k, v in params.items() if v}


STATES = ("open", "replayed", "discarded", "")


def parse_filter(params: dict[str, str], zone: ZoneInfo) -> Filter:
    """A filter from query or form fields; Invalid naming the field for a bad one. Times without a
    zone are in `zone` (the chain's local time, as the form shows them)."""
    texts = {}
    for name in ("error_class", "event_type", "topic", "key"):
        value = params.get(name, "").strip()
        if len(value) > MAX_FILTER_CHARS:
            raise Invalid(name, f"at most {MAX_FILTER_CHARS} characters")
        texts[name] = value
    state = params.get("state", "open")
    if state not in STATES:
        raise Invalid("state", "one of open, replayed, discarded or empty")
    times = {name: typed_moment(name, params.get(name, ""), zone) for name in ("since", "until")}
    return Filter(error_class=texts["error_class"], event_type=texts["event_type"], topic=texts["topic"], key=texts["key"],
                  state=state, since=times["since"], until=times["until"])


def check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise Invalid("reason", "say why the dead letter is discarded")
    if len(reason) > 500:
        raise Invalid("reason", "at most 500 characters")
    return reason
